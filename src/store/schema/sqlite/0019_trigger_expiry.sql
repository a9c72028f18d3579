-- 0019_trigger_expiry.sql — the retention pass's reads of the trigger
-- tables (store/trigger_retention.c) across namespaces: the oldest events
-- first, and the hook delivery ids past their replay window. The indexes
-- of 0017 start with the namespace, so each batch read the whole table.

CREATE INDEX event_expiry ON event (created_at, namespace, id);
CREATE INDEX hook_delivery_expiry_all ON hook_delivery (expires_at);
