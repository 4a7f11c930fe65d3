package htmltext_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skychimp/skychimp/internal/newsletter"
	"github.com/skychimp/skychimp/mailing/internal/htmltext"
)

func TestConvert(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"Empty":          {"", "\n"},
		"Paragraphs":     {"<p>One</p>\n<p>Two &lt;3</p>", "One\n\nTwo <3\n"},
		"Breaks":         {"a<br>b<br/>c", "a\nb\nc\n"},
		"List":           {"<ul><li>x</li><li>y</li></ul>", "- x\n- y\n"},
		"ListAfterText":  {"<p>Next:</p><ul>\n<li>x</li>\n<li>y</li>\n</ul><p>End</p>", "Next:\n\n- x\n- y\n\nEnd\n"},
		"Link":           {`<a href="https://e.example/?a=1&amp;b=2">Go</a>`, "Go (https://e.example/?a=1&b=2)\n"},
		"BareLink":       {`<a href="https://e.example/">https://e.example/</a>`, "https://e.example/\n"},
		"EmptyLink":      {`see <a href="https://e.example/"><img src="x.png"></a>`, "see https://e.example/\n"},
		"AnchorLink":     {`<a href="#top">Top</a>`, "Top\n"},
		"JavaScriptLink": {`<a href="javascript:alert(1)">Click</a>`, "Click\n"},
		"Mailto":         {`<a href="mailto:a@b.example">a@b.example</a>`, "a@b.example\n"},
		"NestedInline":   {`<p>The <b>new</b> <a href="https://e.example/d"><i>dash</i>board</a>.</p>`, "The new dashboard (https://e.example/d).\n"},
		"Dropped":        {"<style>p{color:red}</style><script>x()</script><!-- c -->Hi", "Hi\n"},
		"Head":           {"<html><head><title>T</title><style>a{}</style></head><body><p>Hi</p></body></html>", "Hi\n"},
		"Spaces":         {"  lots\tof   space  \u00a0 ", "lots of space\n"},
		"Cells":          {"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc\n"},
		"Entities":       {"caf&eacute; &mdash; &#8364;5 &amp; more", "café — €5 & more\n"},
		"Unclosed":       {`<p>x <a href="https://e.example/">y`, "x y (https://e.example/)\n"},
		"Broken":         {"<p <b>x</b> <<>> y", "x <<>> y\n"},
	} {
		assert.Equal(t, tc.want, htmltext.Convert(tc.in), name)
	}
}

func TestConvertNewsletter(t *testing.T) {
	got := htmltext.Convert(newsletter.HTML)
	for _, want := range []string{
		"Hello {{.Name}},\n\nHere is what happened",
		"Open your dashboard (https://example.com/dashboard?utm_source=newsletter&utm_medium=email&utm_campaign=week-12)",
		"- Reports per client, with every attempt and the server's answer.\n- Time zones",
		"Unsubscribe ({{.UnsubscribeURL}})",
	} {
		assert.Contains(t, got, want)
	}
	for _, not := range []string{"<", "color:", "Example Co. weekly\n"} {
		assert.NotContains(t, got, not)
	}
	assert.NotContains(t, got, "\n\n\n")
	for _, l := range strings.Split(got, "\n") {
		assert.Equal(t, strings.TrimSpace(l), l)
	}
}

func BenchmarkConvert(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		htmltext.Convert(newsletter.HTML)
	}
}
