package adminhost

import (
	"errors"

	"github.com/GoAdminGroup/themes/adminlte"
)

// The adminlte theme's templates are a process-global map that GoAdmin
// parses on every page; the host replaces two of them at start-up:
//
//   - "footer": GoAdmin's names GoAdmin, its version and the theme (a map
//     of what to attack); ours shows the panel's title only;
//   - "admin_panel" (the header's right side): GoAdmin's logs out with a
//     GET link inside a user menu it hides from most roles, next to a
//     "settings" link to a route the guard closes; ours shows the user's
//     name and a "Log out" button that POSTs (logout.go).

// footerTemplate replaces GoAdmin's footer.
const footerTemplate = `{{define "footer"}}
    <footer class="main-footer">{{.FooterInfo}}</footer>
{{end}}`

// adminPanelTemplate replaces the header's right side: GoAdmin's own
// buttons (pin the menu, full screen, refresh), the user's name and the
// logout form.
const adminPanelTemplate = `{{define "admin_panel"}}
    <div class="navbar-custom-menu">
        <ul class="nav navbar-nav">
            <li title="{{lang "Fixed the sidebar"}}">
                <a href="javascript:void(0);" class="fixed-btn" data-click="false">
                    <i class="fa fa-thumb-tack"></i>
                </a>
            </li>
            <li title="{{lang "Enter fullscreen"}}" class="fullpage-btn">
                <a href="javascript:void(0);">
                    <i class="fa fa-arrows-alt"></i>
                </a>
            </li>
            <li title="{{lang "Exit fullscreen"}}" class="exit-fullpage-btn" style="display: none;">
                <a href="javascript:void(0);">
                    <i class="fa fa-compress"></i>
                </a>
            </li>
            <li title="{{lang "Refresh"}}">
                <a href="javascript:void(0);" class="container-refresh">
                    <i class="fa fa-refresh"></i>
                </a>
            </li>
            {{.NavButtonsHTML}}
            <li class="hidden-xs"><p class="navbar-text skychimp-user">{{.User.Name}}</p></li>
            <li>
                <form method="post" action="{{.UrlPrefix}}` + logoutPath + `" class="navbar-form skychimp-logout" style="margin: 8px 10px;">
                    <button type="submit" class="btn btn-default btn-sm" id="logout-button">
                        <i class="fa fa-sign-out"></i> Log out
                    </button>
                </form>
            </li>
        </ul>
    </div>
{{end}}`

// customizeTheme replaces the theme's templates (see above). It fails when
// the theme no longer has what it replaces (another version of it).
func customizeTheme() error {
	tl := adminlte.TemplateList
	for _, name := range []string{"footer", "admin_panel"} {
		if _, ok := tl[name]; !ok {
			return errors.New("adminhost: the adminlte theme has no template " + name)
		}
	}
	tl["footer"] = footerTemplate
	tl["admin_panel"] = adminPanelTemplate
	return nil
}
