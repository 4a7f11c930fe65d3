package blogtest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/skychimp/skychimp/blog"
)

// MemStore is an in-memory blog.Store with the real behaviour of the
// contract: it passes TestStore. One mutex guards it, so it is safe for
// concurrent use; values are copied in and out.
type MemStore struct {
	mu     sync.Mutex
	posts  map[int64]blog.Post
	lastID int64

	addViewsCalls int
	failAddViews  error
}

var _ blog.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{posts: map[int64]blog.Post{}} }

func (s *MemStore) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	return nil
}

func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func canon(p blog.Post) blog.Post {
	p.PublishedAt, p.CreatedAt, p.UpdatedAt = micro(p.PublishedAt), micro(p.CreatedAt), micro(p.UpdatedAt)
	return p
}

func notFound(id int64) error { return fmt.Errorf("post %d: %w", id, blog.ErrNotFound) }

func (s *MemStore) slugTaken(slug string, except int64) bool {
	for _, p := range s.posts {
		if p.Slug == slug && p.ID != except {
			return true
		}
	}
	return false
}

// CreatePost stores p and sets p.ID.
func (s *MemStore) CreatePost(ctx context.Context, p *blog.Post) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.slugTaken(p.Slug, 0) {
		return fmt.Errorf("slug %q: %w", p.Slug, blog.ErrConflict)
	}
	s.lastID++
	p.ID = s.lastID
	s.posts[p.ID] = canon(*p)
	return nil
}

// GetPost returns the post with id.
func (s *MemStore) GetPost(ctx context.Context, id int64) (blog.Post, error) {
	if err := s.lock(ctx); err != nil {
		return blog.Post{}, err
	}
	defer s.mu.Unlock()
	p, ok := s.posts[id]
	if !ok {
		return blog.Post{}, notFound(id)
	}
	return p, nil
}

// GetPostBySlug returns the post with slug.
func (s *MemStore) GetPostBySlug(ctx context.Context, slug string) (blog.Post, error) {
	if err := s.lock(ctx); err != nil {
		return blog.Post{}, err
	}
	defer s.mu.Unlock()
	for _, p := range s.posts {
		if p.Slug == slug {
			return p, nil
		}
	}
	return blog.Post{}, fmt.Errorf("post %q: %w", slug, blog.ErrNotFound)
}

// UpdatePost saves the editable fields of p.ID.
func (s *MemStore) UpdatePost(ctx context.Context, p blog.Post) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	old, ok := s.posts[p.ID]
	if !ok {
		return notFound(p.ID)
	}
	if s.slugTaken(p.Slug, p.ID) {
		return fmt.Errorf("slug %q: %w", p.Slug, blog.ErrConflict)
	}
	p.AuthorID, p.Views, p.CreatedAt = old.AuthorID, old.Views, old.CreatedAt
	s.posts[p.ID] = canon(p)
	return nil
}

// DeletePost removes a post.
func (s *MemStore) DeletePost(ctx context.Context, id int64) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.posts[id]; !ok {
		return notFound(id)
	}
	delete(s.posts, id)
	return nil
}

// ListPosts returns the summaries of the posts matching f.
func (s *MemStore) ListPosts(ctx context.Context, f blog.PostFilter) ([]blog.Summary, int, error) {
	if err := s.lock(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	var list []blog.Post
	for _, p := range s.posts {
		if !f.Published || p.Published {
			list = append(list, p)
		}
	}
	slices.SortFunc(list, func(a, b blog.Post) int {
		if f.Published {
			if c := b.PublishedAt.Compare(a.PublishedAt); c != 0 {
				return c
			}
		}
		return cmp.Compare(b.ID, a.ID)
	})
	total := len(list)
	if f.Offset > 0 {
		list = list[min(f.Offset, len(list)):]
	}
	if f.Limit > 0 && f.Limit < len(list) {
		list = list[:f.Limit]
	}
	var out []blog.Summary
	for _, p := range list {
		out = append(out, p.Summary())
	}
	return out, total, nil
}

// AddViews adds the counts of existing posts.
func (s *MemStore) AddViews(ctx context.Context, views map[int64]int64) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.failAddViews != nil {
		return s.failAddViews
	}
	for id, n := range views {
		if p, ok := s.posts[id]; ok {
			p.Views += n
			s.posts[id] = p
		}
	}
	s.addViewsCalls++
	return nil
}

// FailAddViews makes every later AddViews fail with err and change
// nothing, until called with nil (for testing ViewCounter's retries).
func (s *MemStore) FailAddViews(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAddViews = err
}

// AddViewsCalls returns how many AddViews calls succeeded.
func (s *MemStore) AddViewsCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addViewsCalls
}
