package adminhost

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	gctx "github.com/GoAdminGroup/go-admin/context"
	"github.com/GoAdminGroup/go-admin/modules/db"
	gform "github.com/GoAdminGroup/go-admin/plugins/admin/modules/form"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/parameter"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/table"
	"github.com/GoAdminGroup/go-admin/template/types"
	"github.com/GoAdminGroup/go-admin/template/types/form"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
)

// The blog table, for content managers and superusers (blog.Service's
// editors): posts are listed, created, edited, published and deleted
// through the service. An image comes with the form as the one file the
// guard lets through on this table: it is held in memory, never given to
// GoAdmin (whose own upload would store any file unchecked), and handed to
// blog.Service.SetImage, which checks its type, size and decoding before
// anything is written. A refused image is shown in the form with what was
// typed; a new post whose image is refused is not kept.

// postBodyLimit bounds a post's form: the largest image and the largest
// content, with room for the other fields.
const postBodyLimit = blog.DefaultMaxImageBytes + blog.MaxContentLen + 1<<20

// postImageField is the form field of a post's image.
const postImageField = "image"

var editorRoles = []accounts.Role{accounts.RoleContentManager, accounts.RoleSuperuser}

var postFields = []string{"title", "content", "published", "published_at"}

func (h *Host) postsTable() *tableSpec {
	t := &tableSpec{
		prefix:  "posts",
		exists:  opsWrite,
		roles:   map[accounts.Role]op{accounts.RoleContentManager: opsWrite, accounts.RoleSuperuser: opsWrite},
		upload:  postImageField,
		maxBody: postBodyLimit,
		lookup: func(ctx context.Context, id int64) error {
			_, err := h.deps.Blog.GetPost(ctx, id)
			return err
		},
	}
	t.build = func(ctx *gctx.Context, st *reqState) table.Table { return h.buildPosts(ctx, t, st) }
	return t
}

// imageURL is where a stored image is served; "" for a name the image
// store would never give.
func (h *Host) imageURL(name string) string {
	if !blog.ValidImageName(name) {
		return ""
	}
	return h.deps.MediaURL + name
}

// thumbnail is a post's image, small, or a dash.
func (h *Host) thumbnail(name string, maxH int) template.HTML {
	u := h.imageURL(name)
	if u == "" {
		return `<span class="text-muted">–</span>`
	}
	return template.HTML(fmt.Sprintf(`<img src="%s" alt="" style="max-height:%dpx;max-width:%dpx">`, html.EscapeString(u), maxH, 3*maxH))
}

func (h *Host) buildPosts(ctx *gctx.Context, spec *tableSpec, st *reqState) table.Table {
	svc, uctx := h.deps.Blog, ctx.Request.Context()
	t := h.newTable(ctx, spec, st, func(p parameter.Parameters) ([]map[string]interface{}, int) {
		var list []blog.Post
		n := 0
		if ids, ok := pkFilter(p); ok {
			for _, id := range ids {
				post, err := svc.GetPost(uctx, id)
				if err != nil {
					if !isRefusal(err) {
						st.fail(err)
					}
					continue
				}
				list = append(list, post)
			}
			n = len(list)
		} else {
			lo := listOptions(p)
			sums, total, err := svc.ListPosts(uctx, blog.ListOptions{Limit: lo.Limit, Offset: lo.Offset})
			if err != nil {
				st.fail(err)
				return nil, 0
			}
			for _, s := range sums {
				list = append(list, blog.Post{ID: s.ID, AuthorID: s.AuthorID, Title: s.Title, Slug: s.Slug, Content: s.Excerpt,
					ImagePath: s.ImagePath, ImageType: s.ImageType, Views: s.Views, Published: s.Published,
					PublishedAt: s.PublishedAt, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt})
			}
			n = total
		}
		rows := make([]map[string]interface{}, len(list))
		for i, post := range list {
			published := "no"
			if post.Published {
				published = "yes"
			}
			pubAt := ""
			if !post.PublishedAt.IsZero() {
				pubAt = post.PublishedAt.UTC().Format(formTime)
			}
			rows[i] = map[string]interface{}{
				"id": post.ID, "title": post.Title, "slug": post.Slug, "content": post.Content,
				"published": published, "published_at": pubAt, "date": formatTime(post.PublishedAt, nil),
				"views": post.Views, "image_path": post.ImagePath, "current_image": post.ImagePath,
				"image": "", "remove_image": "no", "updated_at": formatTime(post.UpdatedAt, nil),
			}
			if st.route.op == opEdit {
				rows[i] = refill(st, rows[i], postFields...)
			}
		}
		return rows, n
	})

	// The list leaves out the last change's date; the detail page has it.
	info, detail := t.GetInfo(), t.GetDetail()
	address := func(v types.FieldModel) interface{} {
		return template.HTML(`<span class="cell-break">` + html.EscapeString("/blog/"+v.Value) + `</span>`)
	}
	thumb := func(v types.FieldModel) interface{} { return h.thumbnail(v.Value, 40) }
	for _, p := range []*types.InfoPanel{info, detail} {
		p.AddField("ID", "id", db.Int)
		p.AddField("Image", "image_path", db.Varchar).FieldDisplay(thumb)
		p.AddField("Title", "title", db.Varchar)
		p.AddField("Published", "published", db.Varchar)
		p.AddField("Date (UTC)", "date", db.Varchar).FieldDisplay(cellNowrap)
		p.AddField("Views", "views", db.Int)
		p.AddField("Address", "slug", db.Varchar).FieldDisplay(address)
	}
	detail.AddField("Updated (UTC)", "updated_at", db.Varchar)
	info.SetTable("posts").SetTitle("Blog").SetDescription("Posts, drafts included; the public sees published posts only")
	info.SetDeleteFn(func(ids []string) error {
		list, err := parseIDs(ids)
		if err != nil {
			return h.deleteError(st, err)
		}
		for _, id := range list {
			if err := svc.DeletePost(uctx, id); err != nil {
				return h.deleteError(st, err)
			}
		}
		return nil
	})
	h.addRowActions(ctx, info, st.user.Role, "post-")

	fp := t.GetForm()
	fp.AddField("Title", "title", db.Varchar, form.Text).FieldMust()
	fp.AddField("Content", "content", db.Text, form.TextArea).FieldMust().
		FieldHelpMsg("Plain text: a blank line starts a new paragraph, and web addresses become links. No HTML.")
	fp.AddField("Status", "published", db.Varchar, form.Radio).FieldDefault("no").
		FieldOptions(types.FieldOptions{{Text: "Draft", Value: "no"}, {Text: "Published", Value: "yes"}})
	fp.AddField("Publication date (UTC)", "published_at", db.Varchar, form.Datetime).
		FieldHelpMsg("Optional, not in the future. Empty: the time the post is first published.")
	fp.AddField("Current image", "current_image", db.Varchar, form.Default).FieldHideWhenCreate().
		FieldDisplay(func(v types.FieldModel) interface{} { return h.thumbnail(v.Value, 120) })
	fp.AddField("Remove the image", "remove_image", db.Varchar, form.Radio).FieldHideWhenCreate().FieldDefault("no").
		FieldOptions(types.FieldOptions{{Text: "Keep it", Value: "no"}, {Text: "Remove it", Value: "yes"}})
	fp.AddField("New image", postImageField, db.Varchar, form.File).
		FieldHelpMsg(template.HTML(fmt.Sprintf("PNG, JPEG, GIF or WebP, at most %d MiB and %d pixels wide and high. It is checked before it is stored.",
			blog.DefaultMaxImageBytes>>20, blog.DefaultMaxImageSide)))
	fp.SetTable("posts").SetTitle("Post").SetDescription("A blog post")
	fp.SetInsertFn(func(v gform.Values) error {
		d, err := h.draftFromForm(v)
		if err != nil {
			return h.formError(st, v, err)
		}
		p, err := svc.CreatePost(uctx, d)
		if err == nil {
			if up := st.file(); up != nil {
				if _, err = svc.SetImage(uctx, p.ID, bytes.NewReader(up.data)); err != nil {
					// The form comes back with the reason: the post is not kept.
					if derr := svc.DeletePost(uctx, p.ID); derr != nil {
						st.fail(fmt.Errorf("delete post %d after its image was refused: %w", p.ID, derr))
					}
				}
			}
		}
		return h.formError(st, v, err)
	})
	fp.SetUpdateFn(func(v gform.Values) error {
		id := int64Field(v.Get("id"))
		d, err := h.draftFromForm(v)
		if err != nil {
			return h.formError(st, v, err)
		}
		// The image first: a refused image leaves the post as it was.
		if up := st.file(); up != nil {
			_, err = svc.SetImage(uctx, id, bytes.NewReader(up.data))
		} else if v.Get("remove_image") == "yes" {
			_, err = svc.RemoveImage(uctx, id)
		}
		if err == nil {
			_, err = svc.UpdatePost(uctx, id, d)
		}
		return h.formError(st, v, err)
	})
	prefill(st, fp)
	return t
}

// draftFromForm reads a post's fields and checks them as the service
// will, so that a bad form changes nothing (not even the image).
func (h *Host) draftFromForm(v gform.Values) (blog.Draft, error) {
	d := blog.Draft{Title: v.Get("title"), Content: v.Get("content"), Published: v.Get("published") == "yes"}
	var bad []blog.FieldError
	if s := strings.TrimSpace(v.Get("published_at")); s != "" {
		t, ok := parseFormTime(s, time.UTC)
		d.PublishedAt = t
		if !ok {
			bad = append(bad, blog.FieldError{Field: "published_at", Message: fmt.Sprintf("%q is not a date and time like 2025-01-31 09:00", s)})
		}
	}
	check := d
	if err := check.Validate(h.clock.Now()); err != nil {
		if ve, ok := err.(*blog.ValidationError); ok {
			bad = append(bad, ve.Fields...)
		} else {
			return d, err
		}
	}
	if len(bad) > 0 {
		return d, &blog.ValidationError{Fields: bad}
	}
	return d, nil
}
