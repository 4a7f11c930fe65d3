package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"net"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
)

func TestOpenURL(t *testing.T) {
	ctx := context.Background()
	t.Run("SQLitePragmas", func(t *testing.T) {
		db, d, err := sqldb.OpenURL(ctx, "sqlite:"+sqldbtest.SQLitePath(t))
		require.NoError(t, err)
		defer db.Close()
		assert.Equal(t, sqldb.SQLite, d)
		var mode string
		var fk, busy, sync int
		require.NoError(t, db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
		require.NoError(t, db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
		require.NoError(t, db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy))
		require.NoError(t, db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
		assert.Equal(t, "wal", mode)
		assert.Equal(t, 1, fk)
		assert.Equal(t, 10000, busy)
		assert.Equal(t, 1, sync, "NORMAL")
	})
	t.Run("ErrScheme", func(t *testing.T) {
		_, _, err := sqldb.OpenURL(ctx, "nonsense")
		assert.EqualError(t, err, `database "nonsense": want sqlite:PATH or mysql:DSN`)
		_, _, err = sqldb.OpenURL(ctx, "sqlite:")
		assert.EqualError(t, err, `database "sqlite:": want sqlite:PATH or mysql:DSN`)
	})
	t.Run("ErrSchemeHidesPassword", func(t *testing.T) {
		_, _, err := sqldb.OpenURL(ctx, "postgres:bob:hunter2@tcp(db:5432)/x")
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "hunter2")
	})
	t.Run("ErrSQLitePath", func(t *testing.T) {
		_, _, err := sqldb.OpenURL(ctx, "sqlite:x.db?mode=ro")
		assert.EqualError(t, err, `database "sqlite:x.db?mode=ro": want sqlite:PATH with a plain file path`)
	})
	t.Run("ErrSQLiteCannotOpen", func(t *testing.T) {
		_, _, err := sqldb.OpenURL(ctx, "sqlite:"+t.TempDir()+"/missing/dir/x.db")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "cannot open SQLite database")
		assert.NotContains(t, err.Error(), "\n")
	})
	t.Run("ErrMySQLDSN", func(t *testing.T) {
		_, _, err := sqldb.OpenURL(ctx, "mysql:bob:hunter2@tcp(127.0.0.1:3306")
		require.Error(t, err)
		assert.Contains(t, err.Error(), `database "mysql:bob:xxxxx@tcp(127.0.0.1:3306": invalid DSN`)
		assert.NotContains(t, err.Error(), "hunter2")
	})
	t.Run("ErrMySQLNoDatabase", func(t *testing.T) {
		_, _, err := sqldb.OpenURL(ctx, "mysql:bob:hunter2@tcp(127.0.0.1:3306)/")
		assert.EqualError(t, err, `database "mysql:bob:xxxxx@tcp(127.0.0.1:3306)/": the DSN names no database (user:password@tcp(host:port)/DATABASE)`)
	})
	t.Run("ErrMySQLUnreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		_, _, err = sqldb.OpenURL(ctx, "mysql:bob:hunter2@tcp("+addr+")/x")
		assert.EqualError(t, err, "cannot reach MySQL at "+addr+": connection refused")
	})
	t.Run("MySQL", func(t *testing.T) {
		url := sqldbtest.MySQLURL(t)
		db, d, err := sqldb.OpenURL(ctx, url)
		require.NoError(t, err)
		defer db.Close()
		assert.Equal(t, sqldb.MySQL, d)
		var v string
		require.NoError(t, db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v))
		assert.NotEmpty(t, v)
	})
	t.Run("ErrMySQLAccessDenied", func(t *testing.T) {
		url := sqldbtest.MySQLURL(t)
		dsn := strings.TrimPrefix(url, "mysql:")
		at := strings.LastIndex(dsn, "@")
		_, _, err := sqldb.OpenURL(ctx, "mysql:nosuchuser_skychimp:hunter2"+dsn[at:])
		require.Error(t, err)
		assert.Contains(t, err.Error(), "cannot reach MySQL at ")
		assert.Contains(t, err.Error(), "Access denied")
		assert.NotContains(t, err.Error(), "hunter2")
	})
}

func TestTime(t *testing.T) {
	t.Run("Arg", func(t *testing.T) {
		assert.Nil(t, sqldb.TimeArg(time.Time{}))
		msk := time.FixedZone("MSK", 3*3600)
		in := time.Date(2024, 2, 29, 23, 59, 58, 123456789, msk)
		assert.Equal(t, "2024-02-29 20:59:58.123456", sqldb.TimeArg(in))
		assert.Equal(t, "2024-02-29 20:59:58.000000", sqldb.TimeArg(time.Date(2024, 2, 29, 20, 59, 58, 0, time.UTC)))
	})
	t.Run("TextOrderIsTimeOrder", func(t *testing.T) {
		a := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
		b := a.Add(time.Microsecond)
		c := a.Add(10 * time.Hour)
		assert.Less(t, sqldb.FormatTime(a), sqldb.FormatTime(b))
		assert.Less(t, sqldb.FormatTime(b), sqldb.FormatTime(c))
	})
	t.Run("Scan", func(t *testing.T) {
		want := time.Date(2024, 2, 29, 20, 59, 58, 123456000, time.UTC)
		for name, src := range map[string]any{
			"Text":          "2024-02-29 20:59:58.123456",
			"Bytes":         []byte("2024-02-29 20:59:58.123456"),
			"RFC3339":       "2024-02-29T23:59:58.123456789+03:00",
			"TimeUTC":       want.Add(789),
			"TimeOtherZone": time.Date(2024, 2, 29, 20, 59, 58, 123456000, time.FixedZone("X", 7200)),
			"ShortFraction": "2024-02-29 20:59:58.123456000",
		} {
			t.Run(name, func(t *testing.T) {
				var got time.Time
				require.NoError(t, sqldb.ScanTime(&got).Scan(src))
				assert.Equal(t, want, got)
				assert.Equal(t, time.UTC, got.Location())
			})
		}
		var got time.Time
		require.NoError(t, sqldb.ScanTime(&got).Scan("2024-02-29 20:59:58"))
		assert.Equal(t, want.Truncate(time.Second), got)
		got = time.Now()
		require.NoError(t, sqldb.ScanTime(&got).Scan(nil))
		assert.True(t, got.IsZero())
		assert.Error(t, sqldb.ScanTime(&got).Scan("yesterday"))
		assert.Error(t, sqldb.ScanTime(&got).Scan("2024-02-30 20:59:58.123456"), "no such day")
		assert.Error(t, sqldb.ScanTime(&got).Scan("2024-02-29 24:59:58.123456"), "no such hour")
		assert.Error(t, sqldb.ScanTime(&got).Scan("2024-02-29 20:59:58.12345x"))
		assert.Error(t, sqldb.ScanTime(&got).Scan(42))
	})
	t.Run("RoundTrip", func(t *testing.T) {
		sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
			db := sqldbtest.New(t, d)
			ctx := context.Background()
			col := map[sqldb.Dialect]string{sqldb.SQLite: "TEXT", sqldb.MySQL: "DATETIME(6)"}[d]
			_, err := db.ExecContext(ctx, "CREATE TABLE times (id INT PRIMARY KEY, t "+col+" NULL)")
			require.NoError(t, err)
			in := time.Date(2031, 12, 31, 23, 59, 59, 999999999, time.FixedZone("X", -5*3600))
			_, err = db.ExecContext(ctx, "INSERT INTO times VALUES (1, ?), (2, ?)", sqldb.TimeArg(in), sqldb.TimeArg(time.Time{}))
			require.NoError(t, err)
			var got, zero time.Time
			require.NoError(t, db.QueryRowContext(ctx, "SELECT t FROM times WHERE id = 1 AND t = ?", sqldb.TimeArg(in)).Scan(sqldb.ScanTime(&got)))
			assert.Equal(t, in.UTC().Truncate(time.Microsecond), got)
			require.NoError(t, db.QueryRowContext(ctx, "SELECT t FROM times WHERE id = 2").Scan(sqldb.ScanTime(&zero)))
			assert.True(t, zero.IsZero())
			var n int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM times WHERE t < ?", sqldb.TimeArg(in.Add(time.Microsecond))).Scan(&n))
			assert.Equal(t, 1, n)
		})
	})
}

func TestErrors(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
		db := sqldbtest.New(t, d)
		ctx := context.Background()
		engine := map[sqldb.Dialect]string{sqldb.MySQL: " ENGINE=InnoDB"}[d]
		for _, q := range []string{
			"CREATE TABLE parents (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL UNIQUE)" + engine,
			"CREATE TABLE children (id INT PRIMARY KEY, parent_id INT NOT NULL, FOREIGN KEY (parent_id) REFERENCES parents (id))" + engine,
			"INSERT INTO parents VALUES (1, 'a@example.com')",
			"INSERT INTO children VALUES (1, 1)",
		} {
			_, err := db.ExecContext(ctx, q)
			require.NoError(t, err, q)
		}
		_, err := db.ExecContext(ctx, "INSERT INTO parents VALUES (2, 'a@example.com')")
		assert.True(t, sqldb.IsUniqueViolation(err), "unique: %v", err)
		assert.False(t, sqldb.IsForeignKeyViolation(err))
		_, err = db.ExecContext(ctx, "INSERT INTO parents VALUES (1, 'b@example.com')")
		assert.True(t, sqldb.IsUniqueViolation(err), "primary: %v", err)
		_, err = db.ExecContext(ctx, "INSERT INTO children VALUES (2, 99)")
		assert.True(t, sqldb.IsForeignKeyViolation(err), "missing parent: %v", err)
		assert.False(t, sqldb.IsUniqueViolation(err))
		_, err = db.ExecContext(ctx, "DELETE FROM parents WHERE id = 1")
		assert.True(t, sqldb.IsForeignKeyViolation(err), "referenced parent: %v", err)
		assert.False(t, sqldb.IsUniqueViolation(errors.New("x")))
		assert.False(t, sqldb.IsForeignKeyViolation(nil))
		assert.False(t, sqldb.IsRetryable(err))
	})
}

func TestInTx(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
		db := sqldbtest.New(t, d)
		ctx := context.Background()
		_, err := db.ExecContext(ctx, "CREATE TABLE n (v INT)")
		require.NoError(t, err)
		count := func() int {
			var n int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM n").Scan(&n))
			return n
		}
		insert := func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO n VALUES (1)")
			return err
		}
		t.Run("Commits", func(t *testing.T) {
			require.NoError(t, sqldb.InTx(ctx, db, insert))
			assert.Equal(t, 1, count())
		})
		t.Run("RollsBackOnError", func(t *testing.T) {
			boom := errors.New("boom")
			err := sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
				require.NoError(t, insert(tx))
				return boom
			})
			assert.ErrorIs(t, err, boom)
			assert.Equal(t, 1, count())
		})
		t.Run("RollsBackOnPanic", func(t *testing.T) {
			assert.PanicsWithValue(t, "boom", func() {
				_ = sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
					require.NoError(t, insert(tx))
					panic("boom")
				})
			})
			assert.Equal(t, 1, count())
		})
	})
}

func TestIn(t *testing.T) {
	assert.Equal(t, "?", sqldb.In(1))
	assert.Equal(t, "?,?,?", sqldb.In(3))
	assert.Panics(t, func() { sqldb.In(0) })
	assert.Equal(t, []any{int64(1), int64(2)}, sqldb.Args([]int64{1, 2}))
	assert.Equal(t, "(?,?,?),(?,?,?)", sqldb.Values(2, 3))
	assert.Equal(t, "(?)", sqldb.Values(1, 1))
	assert.Panics(t, func() { sqldb.Values(0, 1) })
	assert.Equal(t, "SELECT ? AS id, ? AS state UNION ALL SELECT ?, ? UNION ALL SELECT ?, ?", sqldb.SelectRows(3, "id", "state"))
	assert.Equal(t, "SELECT ? AS id", sqldb.SelectRows(1, "id"))
	assert.Panics(t, func() { sqldb.SelectRows(0, "id") })
}

func TestWhere(t *testing.T) {
	var w sqldb.Where
	assert.Equal(t, "", w.SQL())
	assert.Empty(t, w.Args())
	w.And("a = ?", 1)
	w.And("(b = ? OR c = ?)", "x", "y")
	assert.Equal(t, " WHERE a = ? AND (b = ? OR c = ?)", w.SQL())
	assert.Equal(t, []any{1, "x", "y", 9}, w.Args(9))
	assert.Equal(t, []any{1, "x", "y"}, w.Args(), "Args does not keep extras")
	assert.Equal(t, []any{int64(math.MaxInt64), int64(0)}, sqldb.PageArgs(0, -1))
	assert.Equal(t, []any{int64(10), int64(20)}, sqldb.PageArgs(10, 20))
}

func TestJSONIDs(t *testing.T) {
	assert.Equal(t, "[]", sqldb.JSONInts(nil))
	assert.Equal(t, "[1,-2,30]", sqldb.JSONInts([]int64{1, -2, 30}))
	sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
		db := sqldbtest.New(t, d)
		ctx := context.Background()
		_, err := db.ExecContext(ctx, "CREATE TABLE n (id BIGINT PRIMARY KEY)")
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, "INSERT INTO n VALUES (1), (2), (3), (5)")
		require.NoError(t, err)
		for _, tc := range []struct {
			ids  []int64
			want []int64
		}{
			{[]int64{}, nil},
			{[]int64{5, 1, 4}, []int64{1, 5}},
			{[]int64{2, 2}, []int64{2}},
		} {
			got, err := sqldb.Query(ctx, db, sqldb.ScanInt64, "SELECT id FROM n WHERE id IN ("+d.JSONIDs()+") ORDER BY id", sqldb.JSONInts(tc.ids))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "JSONIDs %v", tc.ids)
			if len(tc.ids) > 0 {
				list, args := d.IDList(tc.ids)
				got, err = sqldb.Query(ctx, db, sqldb.ScanInt64, "SELECT id FROM n WHERE id IN ("+list+") ORDER BY id", args...)
				require.NoError(t, err)
				assert.Equal(t, tc.want, got, "IDList %v", tc.ids)
			}
		}
	})
}

func migrations(d sqldb.Dialect, versions int) fstest.MapFS {
	files := []string{
		"-- +goose Up\nCREATE TABLE t1 (id INT PRIMARY KEY);\n-- +goose Down\nDROP TABLE t1;\n",
		"-- +goose Up\nCREATE TABLE t2 (id INT PRIMARY KEY);\nINSERT INTO t2 VALUES (1);\n-- +goose Down\nDROP TABLE t2;\n",
	}
	fsys := fstest.MapFS{}
	for i := range versions {
		fsys[[]string{"00001_one.sql", "00002_two.sql"}[i]] = &fstest.MapFile{Data: []byte(files[i])}
	}
	return fsys
}

func TestMigrate(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
		db := sqldbtest.New(t, d)
		ctx := context.Background()
		st, err := sqldb.MigrationStatus(ctx, db, d, migrations(d, 1), "a_version")
		require.NoError(t, err)
		assert.Equal(t, sqldb.Status{Current: 0, Latest: 1, Pending: 1}, st)
		assert.False(t, st.UpToDate())

		require.NoError(t, sqldb.Migrate(ctx, db, d, migrations(d, 1), "a_version"))
		st, err = sqldb.MigrationStatus(ctx, db, d, migrations(d, 1), "a_version")
		require.NoError(t, err)
		assert.Equal(t, sqldb.Status{Current: 1, Latest: 1}, st)

		t.Run("SecondRunIsNoOp", func(t *testing.T) {
			require.NoError(t, sqldb.Migrate(ctx, db, d, migrations(d, 1), "a_version"))
			var n int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM a_version").Scan(&n))
			assert.Equal(t, 2, n, "version 0 and 1, once each")
		})
		t.Run("AppliesNewVersion", func(t *testing.T) {
			require.NoError(t, sqldb.Migrate(ctx, db, d, migrations(d, 2), "a_version"))
			require.NoError(t, sqldb.Migrate(ctx, db, d, migrations(d, 2), "a_version"))
			var n int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM t2").Scan(&n))
			assert.Equal(t, 1, n)
			st, err := sqldb.MigrationStatus(ctx, db, d, migrations(d, 2), "a_version")
			require.NoError(t, err)
			assert.Equal(t, sqldb.Status{Current: 2, Latest: 2}, st)
		})
		t.Run("TablesAreIndependent", func(t *testing.T) {
			other := fstest.MapFS{"00001_x.sql": {Data: []byte("-- +goose Up\nCREATE TABLE x1 (id INT);\n")}}
			require.NoError(t, sqldb.Migrate(ctx, db, d, other, "b_version"))
			st, err := sqldb.MigrationStatus(ctx, db, d, other, "b_version")
			require.NoError(t, err)
			assert.Equal(t, sqldb.Status{Current: 1, Latest: 1}, st)
		})
		t.Run("ErrBadSQL", func(t *testing.T) {
			bad := fstest.MapFS{"00001_x.sql": {Data: []byte("-- +goose Up\nCREATE TABLE (;\n")}}
			err := sqldb.Migrate(ctx, db, d, bad, "c_version")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "sqldb: migrate c_version:")
		})
		t.Run("ConcurrentPools", func(t *testing.T) {
			url := sqldbtest.URL(t, d)
			fsys := fstest.MapFS{
				"00001_a.sql": {Data: []byte("-- +goose Up\nCREATE TABLE ca (id INT);\n")},
				"00002_b.sql": {Data: []byte("-- +goose Up\nCREATE TABLE cb (id INT);\n")},
			}
			errs := make(chan error, 3)
			for range 3 {
				db := sqldbtest.Open(t, url)
				go func() { errs <- sqldb.Migrate(ctx, db, d, fsys, "d_version") }()
			}
			for range 3 {
				assert.NoError(t, <-errs)
			}
		})
	})
}

func BenchmarkScanTime(b *testing.B) {
	var t time.Time
	for range b.N {
		if err := sqldb.ScanTime(&t).Scan("2024-02-29 20:59:58.123456"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDialect(t *testing.T) {
	assert.True(t, sqldb.SQLite.Valid())
	assert.True(t, sqldb.MySQL.Valid())
	assert.EqualError(t, sqldb.Dialect("pg").Check(), `sqldb: unknown dialect "pg": want "sqlite" or "mysql"`)
	_, err := sqldb.MigrationStatus(context.Background(), nil, "pg", nil, "v")
	assert.Error(t, err)
}
