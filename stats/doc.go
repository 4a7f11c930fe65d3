// Package stats computes the service's figures and send reports: the home
// page's (mailings, active mailings, unique clients), each user's
// dashboard (their figures and attempts per day) and each mailing's report
// (deliveries per run, every client's last attempt and the server's
// answer).
//
//   - Store is the contract for implementers: read-only aggregates over
//     the mailing data (stats/sqlstore runs SQL on mailing/sqlstore's
//     tables; statstest.Store computes them from any mailing.Store).
//   - Service applies the policy, through mailing.Service for ownership.
//   - ReadModel serves the home and dashboard figures from a snapshot of
//     every owner's figures kept in memory and refreshed in the
//     background, so that a page costs the same however large the ledger
//     grows; its documentation states how stale each figure may be.
//   - CachedStore caches only the home figures, in any gocache cache.
//
// Quick start:
//
//	figures := stats.NewReadModel(sqlstore.New(db, dialect), stats.ReadModelOptions{})
//	go figures.Run(ctx)
//	mailings := mailing.NewService(mstore, nil, mailing.WithChangeHook(figures.MailingChanged))
//	svc := stats.NewService(figures, mailings, nil)
//	home, err := svc.Home(ctx)
package stats
