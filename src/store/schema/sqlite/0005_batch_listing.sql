-- 0005_batch_listing.sql — GET /batches pages over the batch table, newest
-- first, testing each batch for a matching task, instead of grouping every
-- task: this index is the order of that walk.
CREATE INDEX batch_created ON batch (created_at DESC, id DESC);
