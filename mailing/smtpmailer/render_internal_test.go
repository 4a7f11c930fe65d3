package smtpmailer

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHTMLToText(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"Paragraphs": {"<p>One</p>\n<p>Two &lt;3</p>", "One\n\nTwo <3\n"},
		"Breaks":     {"a<br>b<br/>c", "a\nb\nc\n"},
		"List":       {"<ul><li>x</li><li>y</li></ul>", "- x\n- y\n"},
		"Link":       {`<a href="https://e.example/?a=1&amp;b=2">Go</a>`, "Go (https://e.example/?a=1&b=2)\n"},
		"BareLink":   {`<a href="https://e.example/">https://e.example/</a>`, "https://e.example/\n"},
		"Dropped":    {"<style>p{color:red}</style><script>x()</script><!-- c -->Hi", "Hi\n"},
		"Spaces":     {"  lots\tof   space  ", "lots of space\n"},
	} {
		assert.Equal(t, tc.want, htmlToText(tc.in), name)
	}
}
