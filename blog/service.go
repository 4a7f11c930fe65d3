package blog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/skychimp/skychimp/accounts"
)

// CandidateLimit is how many of the newest published posts RandomPublished
// draws from.
const CandidateLimit = 100

// slugTries bounds the "-N" suffixes tried for a taken slug.
const slugTries = 20

// Service is what applications call to write and read the blog. It
// validates input and applies the policy, once, for every caller:
//
//   - editing (CreatePost, UpdatePost, SetPublished, SetImage, RemoveImage,
//     DeletePost) and the editors' reads (GetPost, ListPosts) need an
//     acting user (accounts.WithUser) who is a content manager or a
//     superuser; anyone else gets ErrForbidden, nobody at all
//     accounts.ErrUnauthenticated;
//   - public reads (PublishedPost, ViewPost, ListPublished,
//     RandomPublished) need no user and see published posts only: a draft
//     is ErrNotFound.
//
// It writes no web code: the host turns its results into pages.
type Service struct {
	store    Store
	clock    Clock
	images   *Images
	views    *ViewCounter
	log      *slog.Logger
	onChange func(ctx context.Context, postID int64)
	intN     func(n int) int
}

// Option configures a Service.
type Option func(*Service)

// WithImages lets the service store posts' images (SetImage).
func WithImages(im *Images) Option { return func(s *Service) { s.images = im } }

// WithViewCounter makes ViewPost count views with vc, and the public reads
// show views not yet written.
func WithViewCounter(vc *ViewCounter) Option { return func(s *Service) { s.views = vc } }

// WithChangeHook registers fn, called after a post is created, changed,
// published, unpublished or deleted.
func WithChangeHook(fn func(ctx context.Context, postID int64)) Option {
	return func(s *Service) { s.onChange = fn }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithRand sets the source RandomPublished draws with: intN returns a
// number in [0, n). The default is math/rand/v2's IntN.
func WithRand(intN func(n int) int) Option { return func(s *Service) { s.intN = intN } }

// NewService returns a Service over store. A nil clock means SystemClock.
// Give it a cached store (NewCachedStore) to cache the public reads.
func NewService(store Store, clock Clock, opts ...Option) *Service {
	if clock == nil {
		clock = SystemClock{}
	}
	s := &Service{store: store, clock: clock, log: slog.Default(), intN: rand.IntN}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Store returns the store the service works on.
func (s *Service) Store() Store { return s.store }

// editor returns the acting user if they may edit the blog.
func editor(ctx context.Context) (accounts.User, error) {
	u, err := accounts.MustUserFrom(ctx)
	if err != nil {
		return u, err
	}
	if u.Blocked {
		return u, fmt.Errorf("%w: the account is blocked", accounts.ErrUnauthenticated)
	}
	if u.Role != accounts.RoleContentManager && u.Role != accounts.RoleSuperuser {
		return u, fmt.Errorf("%w: only content managers edit the blog", ErrForbidden)
	}
	return u, nil
}

func (s *Service) changed(ctx context.Context, id int64) {
	if s.onChange != nil {
		s.onChange(ctx, id)
	}
}

func notFound(what string) error { return fmt.Errorf("post %s: %w", what, ErrNotFound) }

// ---- Editing ----

// CreatePost validates d and stores it as a post of the acting editor,
// with a slug derived from its title ("-2", "-3"... when taken).
func (s *Service) CreatePost(ctx context.Context, d Draft) (Post, error) {
	u, err := editor(ctx)
	if err != nil {
		return Post{}, err
	}
	now := s.clock.Now().UTC()
	if err := d.Validate(now); err != nil {
		return Post{}, err
	}
	p := Post{
		AuthorID: u.ID, Title: d.Title, Content: d.Content, Published: d.Published,
		CreatedAt: now, UpdatedAt: now,
	}
	p.PublishedAt = publicationDate(d, Post{}, now)
	base := Slugify(d.Title)
	for i := 1; ; i++ {
		p.Slug = slugCandidate(base, i)
		if i > slugTries {
			p.Slug = base + "-" + randomSuffix()
		}
		err = s.store.CreatePost(ctx, &p)
		if !errors.Is(err, ErrConflict) || i > slugTries {
			break
		}
	}
	if err != nil {
		return Post{}, err
	}
	s.changed(ctx, p.ID)
	return p, nil
}

// publicationDate is the PublishedAt a post gets from a draft: the date
// given, else the stored one, else now when it is being published.
func publicationDate(d Draft, old Post, now time.Time) time.Time {
	switch {
	case !d.PublishedAt.IsZero():
		return d.PublishedAt
	case !old.PublishedAt.IsZero():
		return old.PublishedAt
	case d.Published:
		return now
	}
	return time.Time{}
}

func randomSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

// get loads a post for an editor.
func (s *Service) get(ctx context.Context, id int64) (Post, error) {
	p, err := s.store.GetPost(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Post{}, notFound(fmt.Sprint(id))
	}
	return p, err
}

// save stores p, giving it a new slug when its current one is taken.
func (s *Service) save(ctx context.Context, p *Post, base string) error {
	for i := 1; ; i++ {
		err := s.store.UpdatePost(ctx, *p)
		if !errors.Is(err, ErrConflict) || base == "" || i > slugTries {
			return err
		}
		p.Slug = slugCandidate(base, i+1)
		if i == slugTries {
			p.Slug = base + "-" + randomSuffix()
		}
	}
}

// UpdatePost saves an editor's changes to post id. The slug follows the
// title until the post is first published, and is frozen from then on.
func (s *Service) UpdatePost(ctx context.Context, id int64, d Draft) (Post, error) {
	if _, err := editor(ctx); err != nil {
		return Post{}, err
	}
	now := s.clock.Now().UTC()
	if err := d.Validate(now); err != nil {
		return Post{}, err
	}
	p, err := s.get(ctx, id)
	if err != nil {
		return Post{}, err
	}
	base := ""
	if p.PublishedAt.IsZero() && d.Title != p.Title {
		base = Slugify(d.Title)
		p.Slug = base
	}
	p.PublishedAt = publicationDate(d, p, now)
	p.Title, p.Content, p.Published, p.UpdatedAt = d.Title, d.Content, d.Published, now
	if err := s.save(ctx, &p, base); err != nil {
		return Post{}, err
	}
	s.changed(ctx, id)
	return p, nil
}

// SetPublished publishes or unpublishes post id. The first publication
// sets the publication date.
func (s *Service) SetPublished(ctx context.Context, id int64, published bool) (Post, error) {
	if _, err := editor(ctx); err != nil {
		return Post{}, err
	}
	p, err := s.get(ctx, id)
	if err != nil {
		return Post{}, err
	}
	now := s.clock.Now().UTC()
	p.Published, p.UpdatedAt = published, now
	if published && p.PublishedAt.IsZero() {
		p.PublishedAt = now
	}
	if err := s.store.UpdatePost(ctx, p); err != nil {
		return Post{}, err
	}
	s.changed(ctx, id)
	return p, nil
}

// SetImage validates the image read from r, stores it and makes it post
// id's image, removing the one it replaces. A refused image is a
// *ValidationError on field "image" and leaves nothing behind.
func (s *Service) SetImage(ctx context.Context, id int64, r io.Reader) (Post, error) {
	if _, err := editor(ctx); err != nil {
		return Post{}, err
	}
	if s.images == nil {
		return Post{}, errors.New("blog: the service has no image store (WithImages)")
	}
	p, err := s.get(ctx, id)
	if err != nil {
		return Post{}, err
	}
	img, err := s.images.Save(r)
	if err != nil {
		var ie *ImageError
		if errors.As(err, &ie) {
			return Post{}, &ValidationError{Fields: []FieldError{{"image", ie.Reason}}}
		}
		return Post{}, err
	}
	old := p.ImagePath
	p.ImagePath, p.ImageType, p.UpdatedAt = img.Name, img.Type, s.clock.Now().UTC()
	if err := s.store.UpdatePost(ctx, p); err != nil {
		s.removeImage(ctx, img.Name)
		return Post{}, err
	}
	s.removeImage(ctx, old)
	s.changed(ctx, id)
	return p, nil
}

// RemoveImage takes post id's image away and deletes its file.
func (s *Service) RemoveImage(ctx context.Context, id int64) (Post, error) {
	if _, err := editor(ctx); err != nil {
		return Post{}, err
	}
	p, err := s.get(ctx, id)
	if err != nil {
		return Post{}, err
	}
	if p.ImagePath == "" {
		return p, nil
	}
	old := p.ImagePath
	p.ImagePath, p.ImageType, p.UpdatedAt = "", "", s.clock.Now().UTC()
	if err := s.store.UpdatePost(ctx, p); err != nil {
		return Post{}, err
	}
	s.removeImage(ctx, old)
	s.changed(ctx, id)
	return p, nil
}

func (s *Service) removeImage(ctx context.Context, name string) {
	if name == "" || s.images == nil {
		return
	}
	if err := s.images.Remove(name); err != nil {
		s.log.WarnContext(ctx, "blog: an image file could not be removed", "name", name, "err", err)
	}
}

// DeletePost removes post id and its image.
func (s *Service) DeletePost(ctx context.Context, id int64) error {
	if _, err := editor(ctx); err != nil {
		return err
	}
	p, err := s.get(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeletePost(ctx, id); err != nil {
		return err
	}
	s.removeImage(ctx, p.ImagePath)
	s.changed(ctx, id)
	return nil
}

// GetPost returns any post, drafts included, to an editor.
func (s *Service) GetPost(ctx context.Context, id int64) (Post, error) {
	if _, err := editor(ctx); err != nil {
		return Post{}, err
	}
	return s.get(ctx, id)
}

// ListPosts lists every post, drafts included, newest first, for editors.
func (s *Service) ListPosts(ctx context.Context, o ListOptions) ([]Summary, int, error) {
	if _, err := editor(ctx); err != nil {
		return nil, 0, err
	}
	return s.store.ListPosts(ctx, PostFilter{ListOptions: o})
}

// ---- Public reads ----

// PublishedPost returns the published post with slug (compared
// case-insensitively); a draft or an unknown slug is ErrNotFound. Views
// include those counted but not yet written.
func (s *Service) PublishedPost(ctx context.Context, slug string) (Post, error) {
	slug = strings.ToLower(strings.TrimSpace(slug))
	if slug == "" {
		return Post{}, notFound(`""`)
	}
	p, err := s.store.GetPostBySlug(ctx, slug)
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && !p.Published):
		return Post{}, notFound(fmt.Sprintf("%q", slug))
	case err != nil:
		return Post{}, err
	}
	if s.views != nil {
		p.Views += s.views.Pending(p.ID)
	}
	return p, nil
}

// ViewPost is PublishedPost for a reader's visit: it also counts the view
// (see WithViewCounter), which the returned Views includes.
func (s *Service) ViewPost(ctx context.Context, slug string) (Post, error) {
	p, err := s.PublishedPost(ctx, slug)
	if err != nil || s.views == nil {
		return p, err
	}
	s.views.Add(p.ID)
	p.Views++
	return p, nil
}

// ListPublished lists published posts, newest publication first, with
// the total number of published posts.
func (s *Service) ListPublished(ctx context.Context, o ListOptions) ([]Summary, int, error) {
	list, n, err := s.store.ListPosts(ctx, PostFilter{Published: true, ListOptions: o})
	if err != nil {
		return nil, 0, err
	}
	list = slices.Clone(list) // a cached list may be shared
	s.addPending(list)
	return list, n, nil
}

// RandomPublished returns n published posts drawn at random, afresh on
// every call, from the CandidateLimit newest (fewer when there are fewer).
func (s *Service) RandomPublished(ctx context.Context, n int) ([]Summary, error) {
	cands, _, err := s.store.ListPosts(ctx, PostFilter{Published: true, ListOptions: ListOptions{Limit: CandidateLimit}})
	if err != nil {
		return nil, err
	}
	if n > len(cands) {
		n = len(cands)
	}
	if n <= 0 {
		return nil, nil
	}
	// A partial Fisher-Yates shuffle of a copy: the cached slice is shared.
	idx := make([]int, len(cands))
	for i := range idx {
		idx[i] = i
	}
	out := make([]Summary, n)
	for i := range n {
		j := i + s.intN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
		out[i] = cands[idx[i]]
	}
	s.addPending(out)
	return out, nil
}

func (s *Service) addPending(list []Summary) {
	if s.views == nil {
		return
	}
	for i := range list {
		list[i].Views += s.views.Pending(list[i].ID)
	}
}
