/* store_pg.c — the PostgreSQL backend (libpq), for machines that share one
 * database: one connection, statements run synchronously like sqlite's
 * (PQexecParams, text results; bytea parameters binary), in the schema the
 * connection's search_path names first (current_schema()).
 *
 * What sqlite's WAL and PRAGMA data_version give the daemon has its
 * equivalent here: MVCC lets `podium user ...` write while the daemon reads,
 * and every table's statement trigger (podium_changed, store_schema.c) sends
 * a notification on "podium_changes" at commit. A store that asked for
 * changes (store_data_version, store_changes_fd) LISTENs on its connection
 * and counts the notifications of other connections for its own schema.
 *
 * A lost connection fails the statement that finds it (-EIO, logged once);
 * the next statement reconnects (PQreset, tried at most once a second while
 * the server is away), LISTENs again and counts a change, since notifications
 * sent meanwhile are gone. A writer waits up to 5 s for a lock (lock_timeout),
 * as sqlite's busy timeout. Calls block the main loop like sqlite's disk does:
 * a reconnect to a host that drops packets waits up to connect_timeout (10 s
 * unless the address says otherwise). */
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/store/store_int.h"

/* type oids of pg_type (catalog/pg_type_d.h, not in libpq's headers) */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_OID 26

#define CHANNEL "podium_changes"

typedef struct pg {
	PGconn *conn;
	char *schema;      /* current_schema(): notifications "schema.table" that are ours */
	int listening;     /* LISTEN sent on this connection */
	int down;          /* the connection was lost (logged once) */
	uint64_t retry_at; /* monotonic ms: no reconnecting before */
	int64_t changes;   /* other connections' changes seen */
} pg;

/* One statement's result and the current row's decoded blobs. */
typedef struct pg_result {
	PGresult *res;
	int nrows, ncols;
	unsigned char **blob;
	size_t *blob_len;
} pg_result;

/* libpq's messages end with a newline and may span lines: one log line. */
static const char *
one_line(const char *msg, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%s", msg != NULL ? msg : "");
	for (char *p = buf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
	return buf;
}

static int
pg_fail(store *st, PGresult *res, const char *sql)
{
	pg *c = st->conn;
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char buf[512];

	if (state != NULL && strcmp(state, "23505") == 0) /* unique_violation */
		return -EEXIST;
	if (state != NULL && strcmp(state, "23503") == 0) /* foreign_key_violation */
		return -ENOENT;
	if (PQstatus(c->conn) != CONNECTION_OK) {
		if (!c->down)
			error("store: postgres: connection lost: %s",
			    one_line(PQerrorMessage(c->conn), buf, sizeof(buf)));
		c->down = 1;
		return -EIO;
	}
	error("store: postgres: %s (in: %.60s)",
	    one_line(msg != NULL ? msg : PQerrorMessage(c->conn), buf, sizeof(buf)), sql);
	return -EIO;
}

static void
notice_ignore(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static int
pg_exec_raw(pg *c, const char *sql)
{
	PGresult *res = PQexec(c->conn, sql);
	ExecStatusType s = PQresultStatus(res);
	int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;

	PQclear(res);
	return ok ? 0 : -EIO;
}

/* A connection's settings: on connect and after every reconnect. */
static int
pg_session(store *st)
{
	pg *c = st->conn;
	PGresult *res;
	char buf[512];
	int r = 0;

	PQsetNoticeProcessor(c->conn, notice_ignore, NULL);
	if (PQsetClientEncoding(c->conn, "UTF8") != 0 ||
	    pg_exec_raw(c, "SET lock_timeout = '5s'") != 0 ||
	    (c->listening && pg_exec_raw(c, "LISTEN " CHANNEL) != 0))
		return error(
		    "store: postgres: %s", one_line(PQerrorMessage(c->conn), buf, sizeof(buf)));
	res = PQexec(c->conn, "SELECT current_schema()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    PQgetisnull(res, 0, 0)) {
		r = error("store: postgres: database %s has no schema to keep podium's tables in "
		          "(its search_path names none that exists)",
		    PQdb(c->conn));
	} else {
		free(c->schema);
		c->schema = xstrdup(PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return r;
}

static void
pg_disconnect(store *st)
{
	pg *c = st->conn;

	PQfinish(c->conn);
	free(c->schema);
	free(c);
	st->conn = NULL;
}

static char pg_connect_s[16] = "10", pg_io_ms[16] = "0";
static int pg_keepalive;

void
store_pg_net_timeouts(unsigned connect_s, unsigned io_ms)
{
	snprintf(pg_connect_s, sizeof(pg_connect_s), "%u", connect_s < 2 ? 2 : connect_s);
	snprintf(pg_io_ms, sizeof(pg_io_ms), "%u", io_ms);
	pg_keepalive = io_ms > 0;
}

static int
pg_connect(store *st, const char *url)
{
	/* defaults first: what the address says wins (expand_dbname); an idle
	 * connection to a host that went away is noticed by its keep-alives (1 s
	 * idle, 1 s apart, 2 lost), a busy one by tcp_user_timeout */
	const char *keys[] = { "fallback_application_name", "connect_timeout", "tcp_user_timeout",
		"keepalives_idle", "keepalives_interval", "keepalives_count", NULL, NULL };
	const char *values[] = { "podium", pg_connect_s, pg_io_ms, "1", "1", "2", NULL, NULL };
	size_t n = pg_keepalive ? 6 : 2; /* the system's keep-alive timers unless asked */
	pg *c = xcalloc(1, sizeof(*c));
	const char *enc;
	char buf[512];
	int r = -EIO;

	st->conn = c;
	keys[n] = "dbname";
	values[n] = url;
	c->conn = PQconnectdbParams(keys, values, 1);
	if (PQstatus(c->conn) != CONNECTION_OK) {
		error("store: cannot connect to PostgreSQL: %s",
		    one_line(c->conn != NULL ? PQerrorMessage(c->conn) : "out of memory", buf,
		        sizeof(buf)));
		goto fail;
	}
	enc = PQparameterStatus(c->conn, "server_encoding");
	if (enc == NULL || strcmp(enc, "UTF8") != 0) {
		error(
		    "store: PostgreSQL database %s is encoded %s: podium needs UTF8 (createdb -E UTF8 "
		    "-T template0 ...)",
		    PQdb(c->conn), enc != NULL ? enc : "(unknown)");
		r = -EINVAL;
		goto fail;
	}
	if (pg_session(st) != 0)
		goto fail;
	return 0;
fail:
	pg_disconnect(st);
	return r;
}

/* A lost connection is made again before the next statement. */
static int
pg_ready(store *st)
{
	pg *c = st->conn;
	char buf[512];

	if (PQstatus(c->conn) == CONNECTION_OK)
		return 0;
	/* a server that is gone is asked again once a second, not at every call */
	if (c->down && now_ms() < c->retry_at)
		return -EIO;
	PQreset(c->conn);
	if (PQstatus(c->conn) != CONNECTION_OK || pg_session(st) != 0) {
		if (!c->down)
			error("store: postgres: connection lost, reconnecting: %s",
			    one_line(PQerrorMessage(c->conn), buf, sizeof(buf)));
		c->down = 1;
		c->retry_at = now_ms() + 1000;
		return -EIO;
	}
	log_info("store: postgres: connected again to %s", PQdb(c->conn));
	c->down = 0;
	/* what others changed meanwhile was not heard */
	c->changes++;
	return 0;
}

static int
pg_exec(store *st, const char *sql)
{
	pg *c = st->conn;
	PGresult *res;
	ExecStatusType s;
	int r = 0;

	if ((r = pg_ready(st)) != 0)
		return r;
	res = PQexec(c->conn, sql);
	s = PQresultStatus(res);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		r = pg_fail(st, res, sql);
	PQclear(res);
	return r;
}

static PGresult *
pg_run(store_stmt *q)
{
	const char *values[STORE_PARAMS_MAX];
	char ints[STORE_PARAMS_MAX][24];
	int lengths[STORE_PARAMS_MAX], formats[STORE_PARAMS_MAX];
	Oid types[STORE_PARAMS_MAX];
	pg *c = q->st->conn;

	for (int i = 0; i < q->nparam; i++) {
		const store_value *v = &q->param[i];

		types[i] = 0; /* text: the server infers it from where it stands */
		lengths[i] = formats[i] = 0;
		values[i] = NULL;
		if (v->type == STORE_INT) {
			types[i] = OID_INT8;
			snprintf(ints[i], sizeof(ints[i]), "%lld", (long long)v->i);
			values[i] = ints[i];
		} else if (v->type == STORE_TEXT) {
			values[i] = v->p;
		} else if (v->type == STORE_BLOB) {
			types[i] = OID_BYTEA;
			values[i] = v->p;
			lengths[i] = (int)v->len;
			formats[i] = 1;
		}
	}
	return PQexecParams(c->conn, q->sql, q->nparam, types, values, lengths, formats, 0);
}

static void
blobs_free(pg_result *s)
{
	for (int i = 0; s->blob != NULL && i < s->ncols; i++) {
		PQfreemem(s->blob[i]);
		s->blob[i] = NULL;
	}
}

static int
pg_step(store_stmt *q)
{
	pg_result *s = q->impl;
	PGresult *res;
	ExecStatusType st;
	int r;

	if (s == NULL) {
		if ((r = pg_ready(q->st)) != 0)
			return r;
		res = pg_run(q);
		st = PQresultStatus(res);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			r = pg_fail(q->st, res, q->sql);
			PQclear(res);
			return r;
		}
		s = q->impl = xcalloc(1, sizeof(*s));
		s->res = res;
		s->nrows = PQntuples(res);
		s->ncols = PQnfields(res);
		q->changes = strtoll(PQcmdTuples(res), NULL, 10);
	}
	blobs_free(s);
	if (q->row + 1 >= s->nrows) {
		q->row = s->nrows;
		return 0;
	}
	q->row++;
	return 1;
}

static void
pg_finish(store_stmt *q)
{
	pg_result *s = q->impl;

	if (s == NULL)
		return;
	blobs_free(s);
	free(s->blob);
	free(s->blob_len);
	PQclear(s->res);
	free(s);
	q->impl = NULL;
}

static int
pg_columns(store_stmt *q)
{
	pg_result *s = q->impl;

	return s != NULL ? s->ncols : 0;
}

static const char *
pg_column_name(store_stmt *q, int i)
{
	return PQfname(((pg_result *)q->impl)->res, i);
}

static store_type
pg_column_type(store_stmt *q, int i)
{
	pg_result *s = q->impl;

	if (PQgetisnull(s->res, q->row, i))
		return STORE_NULL;
	switch (PQftype(s->res, i)) {
	case OID_INT8:
	case OID_INT4:
	case OID_INT2:
	case OID_OID:
		return STORE_INT;
	case OID_BYTEA:
		return STORE_BLOB;
	default:
		return STORE_TEXT;
	}
}

static int64_t
pg_column_int(store_stmt *q, int i)
{
	pg_result *s = q->impl;

	if (PQgetisnull(s->res, q->row, i))
		return 0;
	return strtoll(PQgetvalue(s->res, q->row, i), NULL, 10);
}

static const char *
pg_column_text(store_stmt *q, int i)
{
	pg_result *s = q->impl;

	return PQgetisnull(s->res, q->row, i) ? NULL : PQgetvalue(s->res, q->row, i);
}

/* bytea comes as text (\x...): decoded once per row and column. */
static const void *
pg_column_blob(store_stmt *q, int i, size_t *len)
{
	pg_result *s = q->impl;

	*len = 0;
	if (PQgetisnull(s->res, q->row, i))
		return NULL;
	if (s->blob == NULL) {
		s->blob = xcalloc((size_t)s->ncols, sizeof(*s->blob));
		s->blob_len = xcalloc((size_t)s->ncols, sizeof(*s->blob_len));
	}
	if (s->blob[i] == NULL)
		s->blob[i] = PQunescapeBytea(
		    (const unsigned char *)PQgetvalue(s->res, q->row, i), &s->blob_len[i]);
	if (s->blob[i] == NULL)
		return NULL;
	*len = s->blob_len[i];
	return s->blob[i];
}

static int
pg_listen(store *st)
{
	pg *c = st->conn;
	int r;

	if (c->listening)
		return 0;
	if ((r = pg_exec(st, "LISTEN " CHANNEL)) == 0)
		c->listening = 1;
	return r;
}

/* The cluster's own connection hears every change by name (issue 27): what
 * other connections changed of this schema, each "schema.table" to cb. */
static int
pg_notifications(store *st, void (*cb)(const char *payload, void *arg), void *arg)
{
	pg *c = st->conn;
	size_t n = strlen(c->schema);
	PGnotify *note;
	int r;

	if ((r = pg_listen(st)) != 0 || (r = pg_ready(st)) != 0)
		return r;
	if (PQconsumeInput(c->conn) == 0)
		return pg_fail(st, NULL, "LISTEN " CHANNEL);
	while ((note = PQnotifies(c->conn)) != NULL) {
		if (note->be_pid != PQbackendPID(c->conn) &&
		    strncmp(note->extra, c->schema, n) == 0 && note->extra[n] == '.')
			cb(note->extra + n + 1, arg);
		PQfreemem(note);
	}
	return 0;
}

static void
count_change(const char *payload, void *arg)
{
	(void)payload;
	((pg *)arg)->changes++;
}

/* What other connections changed of this schema: the notifications that arrived,
 * read without waiting (a broken connection is made again by the next statement). */
static int
pg_data_version(store *st, int64_t *v)
{
	pg *c = st->conn;
	int r = pg_notifications(st, count_change, c);

	if (r != 0)
		return r;
	*v = c->changes;
	return 0;
}

static int
pg_changes_fd(store *st)
{
	pg *c = st->conn;

	return pg_listen(st) == 0 ? PQsocket(c->conn) : -1;
}

static void
pg_describe(store *st, char *buf, size_t len)
{
	pg *c = st->conn;

	snprintf(buf, len, "PostgreSQL database %s on %s:%s as %s, schema %s", PQdb(c->conn),
	    PQhost(c->conn), PQport(c->conn), PQuser(c->conn), c->schema);
}

const store_backend store_pg_backend = {
	.name = "postgres",
	.dialect = STORE_DIALECT_POSTGRES,
	.version_get = "SELECT COALESCE(MAX(version), 0) FROM podium_schema",
	.version_set = "DELETE FROM podium_schema; INSERT INTO podium_schema (version) VALUES (%d)",
	/* one process at a time (every podium on this database: the lock is the
	 * database's), which also makes the version's table the first time (only
	 * then: a role that may not create tables opens a database made for it) */
	.migrate_begin = "BEGIN; SELECT pg_advisory_xact_lock(123623728313709);" /* "podium" */
	                 " DO $$ BEGIN IF to_regclass(quote_ident(current_schema()) || '.podium_schema')"
	                 " IS NULL THEN CREATE TABLE podium_schema (version INTEGER NOT NULL);"
	                 " END IF; END $$",
	/* every table of the schema tells of its changes (podium_changed) */
	.migrate_step_after =
	    "DO $$ DECLARE t name; BEGIN"
	    " FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	    "  WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname <> 'podium_schema'"
	    "  AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid"
	    "   AND g.tgname = 'podium_changed')"
	    " LOOP EXECUTE format('CREATE TRIGGER podium_changed AFTER INSERT OR UPDATE OR DELETE"
	    "  OR TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION podium_changed()', t);"
	    " END LOOP; END $$",
	.tables = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	          " AND tablename <> 'podium_schema' ORDER BY 1",
	.read_begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	.write_begin = "BEGIN",
	/* rows copied with their ids: the identity sequences go on after them */
	.copy_after =
	    "DO $$ DECLARE r record; BEGIN"
	    " FOR r IN SELECT table_name, column_name FROM information_schema.columns"
	    "  WHERE table_schema = current_schema() AND is_identity = 'YES'"
	    " LOOP EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L),"
	    "  COALESCE((SELECT max(%I) FROM %I), 0) + 1, false)', quote_ident(r.table_name),"
	    "  r.column_name, r.column_name, r.table_name);"
	    " END LOOP; END $$",
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.exec = pg_exec,
	.step = pg_step,
	.finish = pg_finish,
	.columns = pg_columns,
	.column_name = pg_column_name,
	.column_type = pg_column_type,
	.column_int = pg_column_int,
	.column_text = pg_column_text,
	.column_blob = pg_column_blob,
	.data_version = pg_data_version,
	.changes_fd = pg_changes_fd,
	.notifications = pg_notifications,
	.describe = pg_describe,
};
