package blog

import (
	"context"
	"time"
)

// Store keeps blog posts.
//
// The contract, for implementers (blogtest.TestStore checks it):
//   - Every method honours ctx and is safe for concurrent use, also from
//     several processes sharing one database.
//   - Stores filter; they apply no policy (the Service does): drafts come
//     back like any other post unless the filter asks for published ones.
//   - A missing row is an error wrapping ErrNotFound; a slug that another
//     post already has (compared byte for byte) wraps ErrConflict.
//   - Times are stored as given (the Service sets CreatedAt, UpdatedAt and
//     PublishedAt) and come back in UTC, truncated to whole microseconds.
//   - CreatePost sets p.ID and stores a copy.
type Store interface {
	// CreatePost stores p and sets p.ID. Views starts at p.Views.
	// ErrConflict when the slug is taken.
	CreatePost(ctx context.Context, p *Post) error
	// GetPost returns the post with id, or ErrNotFound.
	GetPost(ctx context.Context, id int64) (Post, error)
	// GetPostBySlug returns the post whose slug is slug, or ErrNotFound.
	GetPostBySlug(ctx context.Context, slug string) (Post, error)
	// UpdatePost saves Title, Slug, Content, ImagePath, ImageType,
	// Published, PublishedAt and UpdatedAt of p.ID; AuthorID, Views and
	// CreatedAt are not changed. ErrNotFound, ErrConflict (slug).
	UpdatePost(ctx context.Context, p Post) error
	// DeletePost removes a post. ErrNotFound.
	DeletePost(ctx context.Context, id int64) error
	// ListPosts returns the summaries of the posts matching f, and the
	// number that match f without paging. Published posts are ordered by
	// PublishedAt, newest first, then by id, highest first; a list of every
	// post is ordered by id, highest first. A Summary's Excerpt is
	// Excerpt(content).
	ListPosts(ctx context.Context, f PostFilter) ([]Summary, int, error)
	// AddViews adds n to the view count of each post id in views, in one
	// batched write (all or none). Ids of posts that no longer exist are
	// ignored.
	AddViews(ctx context.Context, views map[int64]int64) error
}

// ListOptions pages a list. Limit 0 means no limit.
type ListOptions struct {
	Limit  int
	Offset int
}

// PostFilter selects posts.
type PostFilter struct {
	// Published selects published posts only; false selects every post.
	Published bool
	ListOptions
}

// Clock tells the time; mailing.Clock and the test fakes fit.
// Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
