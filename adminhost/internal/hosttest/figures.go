package hosttest

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/stats"
)

// figureSwitch is the stats.Store under Env.Stats: the Env's read model,
// unless a benchmark points it at another database's.
type figureSwitch struct {
	atomic.Pointer[stats.ReadModel]
}

var _ stats.Store = (*figureSwitch)(nil)

func (s *figureSwitch) HomeFigures(ctx context.Context, now time.Time) (stats.HomeFigures, error) {
	return s.Load().HomeFigures(ctx, now)
}

func (s *figureSwitch) UserFigures(ctx context.Context, owner int64, now time.Time) (stats.UserFigures, error) {
	return s.Load().UserFigures(ctx, owner, now)
}

func (s *figureSwitch) HourlySends(ctx context.Context, f stats.SendsFilter) ([]stats.SendCount, error) {
	return s.Load().HourlySends(ctx, f)
}

func (s *figureSwitch) ClientStatuses(ctx context.Context, mailingID int64, o mailing.ListOptions) ([]stats.ClientStatus, int, error) {
	return s.Load().ClientStatuses(ctx, mailingID, o)
}

func (s *figureSwitch) Catalog(ctx context.Context) (stats.Catalog, error) {
	return s.Load().Catalog(ctx)
}

func (s *figureSwitch) Ledger(ctx context.Context, since time.Time) (stats.Ledger, error) {
	return s.Load().Ledger(ctx, since)
}
