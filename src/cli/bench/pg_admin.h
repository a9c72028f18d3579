/*
 * pg_admin.h — the PostgreSQL database of a `weft bench` run: created
 * through the URL the user gives (a role that may CREATE DATABASE), checked
 * and read through the URL the nodes get (its size, during a soak),
 * dropped at the end.
 *
 * Every function logs what went wrong (URLs with their passwords masked).
 */
#ifndef WEFT_BENCH_PG_ADMIN_H
#define WEFT_BENCH_PG_ADMIN_H

#include "util/common.h"

/* The part of a postgres:// or postgresql:// URL after "://" (borrowed from
 * url), or NULL for any other text. */
const char *pg_admin_url_rest(const char *url);

/* url with its database replaced by db (owned), or NULL when url is not a
 * postgres:// URL. A dbname= parameter, which would override the path, is
 * left out. */
char *pg_admin_url_with_db(const char *url, const char *db);

/* CREATE DATABASE "<name>" through admin_url. 0 or -1. */
int pg_admin_create_db(const char *admin_url, const char *name);

/* Connects through url, checks that it reaches database name (a mistake
 * would have the nodes share another database), and reads the settings
 * named in settings[0..n) as a session there sees them: values[i] is owned,
 * "?" when unreadable. 0 or -1 (values untouched). */
int pg_admin_check_db(const char *url, const char *name, const char *const *settings, char **values, size_t n);

/* pg_database_size of the database url reaches, in bytes (tables,
 * indexes and TOAST, not the cluster's WAL), or -1 (logged). */
int64_t pg_admin_db_size(const char *url);

/* VACUUM ANALYZE of the database url reaches: fresh statistics and a
 * visibility map before a measured phase, as every system of bench/peers
 * gets. 0 or -1 (logged). */
int pg_admin_vacuum_analyze(const char *url);

/* The integer a one-row, one-column query answers in the database url
 * reaches, or -1 (logged). */
int64_t pg_admin_query_int(const char *url, const char *sql);

/* DROP DATABASE IF EXISTS "<name>" through admin_url, WITH (FORCE) from
 * PostgreSQL 13 on: it ends any session a killed node left behind. */
int pg_admin_drop_db(const char *admin_url, const char *name);

#endif
