package adminhost

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	gctx "github.com/GoAdminGroup/go-admin/context"
	"github.com/GoAdminGroup/go-admin/template/types"
	"github.com/GoAdminGroup/go-admin/template/types/action"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
)

// Custom actions are row buttons that post the row's id to
// Prefix/operation/<id>. GoAdmin registers an action's handler lazily, the
// first time a page showing it is built, and keeps the first handler of a
// path for the life of the process: the host registers every handler at
// start-up, and each handler acts for the user of its own request (from
// the request's context, set by the guard), never for one captured from a
// page.

// action ids.
const (
	actMailingDisable = "mailing-disable"
	actMailingEnable  = "mailing-enable"
	actMailingSend    = "mailing-send"
	actUserBlock      = "user-block"
	actUserUnblock    = "user-unblock"
	actPostPublish    = "post-publish"
	actPostUnpublish  = "post-unpublish"
)

type actionDef struct {
	title   string
	confirm bool
	roles   []accounts.Role
	run     func(h *Host, ctx context.Context, id int64) (string, error)
}

var staffRoles = []accounts.Role{accounts.RoleManager, accounts.RoleSuperuser}

var actionDefs = map[string]actionDef{
	actMailingDisable: {title: "Disable", confirm: true, roles: staffRoles,
		run: func(h *Host, ctx context.Context, id int64) (string, error) {
			m, err := h.deps.Mailings.SetMailingEnabled(ctx, id, false)
			if err != nil {
				return "", err
			}
			h.kick()
			return fmt.Sprintf("%s is disabled: it sends nothing until it is enabled again.", m.DisplayName()), nil
		}},
	actMailingEnable: {title: "Enable", roles: staffRoles,
		run: func(h *Host, ctx context.Context, id int64) (string, error) {
			m, err := h.deps.Mailings.SetMailingEnabled(ctx, id, true)
			if err != nil {
				return "", err
			}
			h.kick()
			return fmt.Sprintf("%s is enabled.", m.DisplayName()), nil
		}},
	actMailingSend: {title: "Send now", confirm: true, roles: []accounts.Role{accounts.RoleUser, accounts.RoleSuperuser},
		run: (*Host).sendNow},
	actPostPublish: {title: "Publish", roles: editorRoles,
		run: func(h *Host, ctx context.Context, id int64) (string, error) {
			p, err := h.deps.Blog.SetPublished(ctx, id, true)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("“%s” is published.", p.Title), nil
		}},
	actPostUnpublish: {title: "Unpublish", confirm: true, roles: editorRoles,
		run: func(h *Host, ctx context.Context, id int64) (string, error) {
			p, err := h.deps.Blog.SetPublished(ctx, id, false)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("“%s” is a draft again: the public no longer sees it.", p.Title), nil
		}},
	actUserBlock: {title: "Block", confirm: true, roles: staffRoles,
		run: func(h *Host, ctx context.Context, id int64) (string, error) {
			u, err := h.deps.Accounts.Block(ctx, id)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s is blocked and logged out.", u.Email), nil
		}},
	actUserUnblock: {title: "Unblock", roles: staffRoles,
		run: func(h *Host, ctx context.Context, id int64) (string, error) {
			u, err := h.deps.Accounts.Unblock(ctx, id)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s may log in again.", u.Email), nil
		}},
}

// buildActions returns the actions the host offers.
func (h *Host) buildActions() map[string]*actionSpec {
	out := make(map[string]*actionSpec)
	for id, d := range actionDefs {
		if id == actMailingSend && h.deps.Engine == nil {
			continue
		}
		if strings.HasPrefix(id, "post-") && h.deps.Blog == nil {
			continue
		}
		out[id] = &actionSpec{id: id, roles: d.roles}
	}
	return out
}

// newAction returns a fresh GoAdmin action for id (GoAdmin writes into an
// action when it places it on a page: one per page).
func (h *Host) newAction(id string) *action.AjaxAction {
	d := actionDefs[id]
	a := action.Ajax(id, h.actionHandler(id)).SetSuccessJS(`if (data.code === 0) {
		swal(data.msg, '', 'success');
		setTimeout(function () { location.reload(); }, 900);
	} else {
		swal(data.msg, '', 'error');
	}`).SetErrorJS(`var d = data && data.responseJSON;
	swal((d && d.msg) || 'Something went wrong. Try again in a few minutes.', '', 'error');`)
	if d.confirm {
		a = a.WithAlert(action.AlertData{
			Title: d.title + "?", Type: "warning", ShowCancelButton: true, ConfirmButtonColor: "#DD6B55",
			ConfirmButtonText: d.title, CancelButtonText: "Cancel",
		})
	}
	return a
}

// registerActions registers every action's handler at start-up.
func (h *Host) registerActions() {
	add := h.eng.AdminPlugin().GetAddOperationFn()
	ids := make([]string, 0, len(h.actions))
	for id := range h.actions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		add(h.newAction(id).GetCallbacks())
	}
}

// addRowActions puts the buttons of the actions named prefix* that role
// may use on every row of info.
func (h *Host) addRowActions(ctx *gctx.Context, info *types.InfoPanel, role accounts.Role, prefix string) {
	ids := make([]string, 0, len(h.actions))
	for id, a := range h.actions {
		if strings.HasPrefix(id, prefix) && a.allows(role) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		info.AddActionButton(ctx, template.HTML(actionDefs[id].title), h.newAction(id))
	}
}

// actionHandler runs action id for the user of the request. A refusal is
// answered with its HTTP status (an unknown or another user's object 404,
// a forbidden one 403, a mailing with nothing to send 409), not GoAdmin's
// 200 with an error code.
func (h *Host) actionHandler(id string) types.Handler {
	return func(ctx *gctx.Context) (bool, string, interface{}) {
		rctx := ctx.Request.Context()
		if _, err := accounts.MustUserFrom(rctx); err != nil {
			return false, "Log in first.", ""
		}
		st := stateFrom(rctx)
		if st == nil || st.route.opID != id {
			return false, "Not found.", ""
		}
		target, err := strconv.ParseInt(strings.TrimSpace(ctx.FormValue("id")), 10, 64)
		if err != nil || target <= 0 {
			st.refuse(http.StatusBadRequest, "Choose a row first.")
			return false, "Choose a row first.", ""
		}
		msg, err := actionDefs[id].run(h, rctx, target)
		if err != nil {
			if isRefusal(err) {
				st.refuse(refusalStatus(err), userMessage(err))
			} else {
				st.fail(err)
			}
			return false, userMessage(err), ""
		}
		return true, msg, ""
	}
}

// sendTimeout bounds a "Send now" (it runs after the request).
const sendTimeout = 10 * time.Minute

// sendNow starts sending the current run of a mailing the acting user
// owns, in the background: a slow mail server must not hold the page.
func (h *Host) sendNow(ctx context.Context, id int64) (string, error) {
	u, err := accounts.MustUserFrom(ctx)
	if err != nil {
		return "", err
	}
	m, err := h.deps.Mailings.GetMailing(ctx, id)
	if err != nil {
		return "", err
	}
	if u.Role == accounts.RoleManager || (u.Role == accounts.RoleUser && m.OwnerID != u.ID) {
		return "", fmt.Errorf("%w: only the mailing's owner can send it", mailing.ErrForbidden)
	}
	now := h.clock.Now()
	switch {
	case !m.Enabled:
		return "", fmt.Errorf("%w: the mailing is disabled", mailing.ErrMailingOver)
	case m.Status(now) == mailing.StatusCreated:
		return "", fmt.Errorf("%w: the mailing has not started yet", mailing.ErrMailingOver)
	case m.Status(now) == mailing.StatusCompleted:
		return "", fmt.Errorf("%w: the mailing has ended", mailing.ErrMailingOver)
	}
	go func() {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		defer cancel()
		sum, err := h.deps.Engine.SendNow(bctx, id)
		if err != nil && !errors.Is(err, mailing.ErrMailingOver) {
			h.log.ErrorContext(bctx, "adminhost: send now failed", "mailing", id, "err", err)
			return
		}
		h.log.InfoContext(bctx, "adminhost: sent now", "mailing", id, "summary", sum.String())
	}()
	return fmt.Sprintf("Sending %s now. The send log shows the results.", m.DisplayName()), nil
}
