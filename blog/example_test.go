package blog_test

import (
	"context"
	"fmt"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/blog/blogtest"
)

func ExampleService() {
	store := blogtest.NewMemStore()
	views := blog.NewViewCounter(store, nil)
	svc := blog.NewService(store, nil, blog.WithViewCounter(views))

	editor := accounts.WithUser(context.Background(), accounts.User{ID: 1, Role: accounts.RoleContentManager})
	post, err := svc.CreatePost(editor, blog.Draft{
		Title:     "Warm-up mailings, explained",
		Content:   "Keep in touch <every> week.\n\nRead more at https://example.com/guide.",
		Published: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(post.Slug)

	// A reader's visit: counted in memory, written by the next flush.
	read, _ := svc.ViewPost(context.Background(), "warm-up-mailings-explained")
	fmt.Print(read.HTML())
	_ = views.Flush(context.Background())
	stored, _ := store.GetPost(context.Background(), post.ID)
	fmt.Println("views:", stored.Views)

	// Drafts are not public, and only editors write.
	_, err = svc.CreatePost(context.Background(), blog.Draft{Title: "x", Content: "y"})
	fmt.Println(err)
	// Output:
	// warm-up-mailings-explained
	// <p>Keep in touch &lt;every&gt; week.</p>
	// <p>Read more at <a href="https://example.com/guide" rel="nofollow noopener noreferrer">https://example.com/guide</a>.</p>
	// views: 1
	// accounts: no user is logged in
}
