-- 0006_outbox_leased_by.sql — a delivery inserted already leased (the
-- engine sends a cycle's new deliveries after its commit when it has room)
-- is leased by the node that wrote it: the writer's session sets weft.node
-- to the node's name (src/store/pg/cluster.c), and other nodes take over
-- only the leases of nodes that are gone. Rows inserted pending carry the
-- name too; the lease sets it again when it takes them.
ALTER TABLE outbox ALTER COLUMN leased_by SET DEFAULT nullif(current_setting('weft.node', true), '');
