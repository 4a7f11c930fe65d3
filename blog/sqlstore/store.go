package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/internal/sqldb"
)

// VersionTable is the table recording the applied migrations of this
// package.
const VersionTable = "blog_schema_version"

//go:embed migrations
var migrations embed.FS

// Store is a blog.Store on a SQL database (SQLite or MySQL/MariaDB). It
// is safe for concurrent use, also by several processes sharing the
// database.
type Store struct {
	db *sql.DB
	d  sqldb.Dialect
	// writer serialises this store's writes on SQLite, which allows one
	// writer at a time anyway: waiting here wakes a writer as soon as the
	// previous one is done, where SQLite's busy handler polls with sleeps.
	writer chan struct{}
}

var _ blog.Store = (*Store)(nil)

// New returns a store on db, a pool of dialect d. It does not touch the
// database: call Migrate before first use.
func New(db *sql.DB, d sqldb.Dialect) (*Store, error) {
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("blog/sqlstore: %w", err)
	}
	if db == nil {
		return nil, errors.New("blog/sqlstore: no database")
	}
	return &Store{db: db, d: d, writer: make(chan struct{}, 1)}, nil
}

// Migrations returns the goose migrations of dialect d.
func Migrations(d sqldb.Dialect) (fs.FS, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	return fs.Sub(migrations, "migrations/"+string(d))
}

// Migrate brings the schema up to date. Running it again, or from several
// processes at once, is safe.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := Migrations(s.d)
	if err != nil {
		return err
	}
	if err := sqldb.Migrate(ctx, s.db, s.d, fsys, VersionTable); err != nil {
		return fmt.Errorf("blog/sqlstore: %w", err)
	}
	return nil
}

// MigrationStatus reports the applied and available schema versions.
func (s *Store) MigrationStatus(ctx context.Context) (sqldb.Status, error) {
	fsys, err := Migrations(s.d)
	if err != nil {
		return sqldb.Status{}, err
	}
	return sqldb.MigrationStatus(ctx, s.db, s.d, fsys, VersionTable)
}

func (s *Store) lockWriter(ctx context.Context) (release func(), err error) {
	if s.d != sqldb.SQLite {
		return func() {}, nil
	}
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	release, err := s.lockWriter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.db.ExecContext(ctx, query, args...)
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("blog/sqlstore: %s: %w", op, err)
}

func notFound(op string, what any) error {
	return fmt.Errorf("blog/sqlstore: %s: post %v: %w", op, what, blog.ErrNotFound)
}

func slugConflict(op, slug string, err error) error {
	if sqldb.IsUniqueViolation(err) {
		return fmt.Errorf("blog/sqlstore: %s: slug %q is taken: %w", op, slug, blog.ErrConflict)
	}
	return wrap(op, err)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreatePost stores p and sets p.ID.
func (s *Store) CreatePost(ctx context.Context, p *blog.Post) error {
	res, err := s.exec(ctx, `INSERT INTO blog_posts
		(author_id, title, slug, content, image_path, image_type, views, published, published_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.AuthorID, p.Title, p.Slug, p.Content, p.ImagePath, p.ImageType, p.Views, boolInt(p.Published),
		sqldb.TimeArg(p.PublishedAt), sqldb.TimeArg(p.CreatedAt), sqldb.TimeArg(p.UpdatedAt))
	if err != nil {
		return slugConflict("create post", p.Slug, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return wrap("create post", err)
	}
	p.ID = id
	return nil
}

const postColumns = `id, author_id, title, slug, content, image_path, image_type, views, published, published_at, created_at, updated_at`

func scanPost(sc sqldb.Scanner) (blog.Post, error) {
	var p blog.Post
	err := sc.Scan(&p.ID, &p.AuthorID, &p.Title, &p.Slug, &p.Content, &p.ImagePath, &p.ImageType, &p.Views,
		&p.Published, sqldb.ScanTime(&p.PublishedAt), sqldb.ScanTime(&p.CreatedAt), sqldb.ScanTime(&p.UpdatedAt))
	return p, err
}

func (s *Store) getBy(ctx context.Context, op, where string, arg any) (blog.Post, error) {
	p, err := scanPost(s.db.QueryRowContext(ctx, `SELECT `+postColumns+` FROM blog_posts WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return blog.Post{}, notFound(op, arg)
	}
	if err != nil {
		return blog.Post{}, wrap(op, err)
	}
	return p, nil
}

// GetPost returns the post with id.
func (s *Store) GetPost(ctx context.Context, id int64) (blog.Post, error) {
	return s.getBy(ctx, "get post", "id = ?", id)
}

// GetPostBySlug returns the post whose slug is slug.
func (s *Store) GetPostBySlug(ctx context.Context, slug string) (blog.Post, error) {
	return s.getBy(ctx, "get post by slug", "slug = ?", slug)
}

// UpdatePost saves the editable fields of p.ID.
func (s *Store) UpdatePost(ctx context.Context, p blog.Post) error {
	res, err := s.exec(ctx, `UPDATE blog_posts SET title = ?, slug = ?, content = ?, image_path = ?, image_type = ?,
		published = ?, published_at = ?, updated_at = ? WHERE id = ?`,
		p.Title, p.Slug, p.Content, p.ImagePath, p.ImageType, boolInt(p.Published),
		sqldb.TimeArg(p.PublishedAt), sqldb.TimeArg(p.UpdatedAt), p.ID)
	if err != nil {
		return slugConflict("update post", p.Slug, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("update post", err)
	} else if n == 0 {
		return notFound("update post", p.ID)
	}
	return nil
}

// DeletePost removes a post.
func (s *Store) DeletePost(ctx context.Context, id int64) error {
	res, err := s.exec(ctx, `DELETE FROM blog_posts WHERE id = ?`, id)
	if err != nil {
		return wrap("delete post", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("delete post", err)
	} else if n == 0 {
		return notFound("delete post", id)
	}
	return nil
}

// ListPosts returns the summaries of the posts matching f.
func (s *Store) ListPosts(ctx context.Context, f blog.PostFilter) ([]blog.Summary, int, error) {
	var w sqldb.Where
	order := ` ORDER BY id DESC`
	if f.Published {
		w.And("published = ?", 1)
		order = ` ORDER BY published_at DESC, id DESC`
	}
	var list []blog.Summary
	var total int
	err := sqldb.InTxWith(ctx, s.db, &sql.TxOptions{ReadOnly: true}, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM blog_posts`+w.SQL(), w.Args()...).Scan(&total); err != nil {
			return err
		}
		var err error
		list, err = sqldb.Query(ctx, tx, scanSummary,
			`SELECT id, author_id, title, slug, SUBSTR(content, 1, ?), image_path, image_type, views, published,
				published_at, created_at, updated_at FROM blog_posts`+w.SQL()+order+` LIMIT ? OFFSET ?`,
			append([]any{blog.ExcerptSource}, w.Args(sqldb.PageArgs(f.Limit, f.Offset)...)...)...)
		return err
	})
	if err != nil {
		return nil, 0, wrap("list posts", err)
	}
	return list, total, nil
}

func scanSummary(sc sqldb.Scanner) (blog.Summary, error) {
	var p blog.Summary
	var start string
	err := sc.Scan(&p.ID, &p.AuthorID, &p.Title, &p.Slug, &start, &p.ImagePath, &p.ImageType, &p.Views,
		&p.Published, sqldb.ScanTime(&p.PublishedAt), sqldb.ScanTime(&p.CreatedAt), sqldb.ScanTime(&p.UpdatedAt))
	p.Excerpt = blog.Excerpt(start)
	return p, err
}

// viewsBatch bounds the posts of one UPDATE statement.
const viewsBatch = 500

// AddViews adds the counts in one transaction: one UPDATE per 500 posts,
// each adding a CASE of the counts to the stored views.
func (s *Store) AddViews(ctx context.Context, views map[int64]int64) error {
	if len(views) == 0 {
		return ctx.Err()
	}
	ids := slices.Sorted(maps.Keys(views)) // a fixed lock order: no deadlocks between instances
	release, err := s.lockWriter(ctx)
	if err != nil {
		return err
	}
	defer release()
	err = sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		for chunk := range slices.Chunk(ids, viewsBatch) {
			var b strings.Builder
			args := make([]any, 0, 3*len(chunk))
			b.WriteString("UPDATE blog_posts SET views = views + CASE id")
			for _, id := range chunk {
				b.WriteString(" WHEN ? THEN ?")
				args = append(args, id, views[id])
			}
			b.WriteString(" ELSE 0 END WHERE id IN (" + sqldb.In(len(chunk)) + ")")
			args = append(args, sqldb.Args(chunk)...)
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("add views", err)
}
