-- Point expiry bookkeeping, and indexes the follower app, redemption and
-- dashboard queries need.

-- When an earn entry's expiry was processed (0 = not yet): the expire entry
-- itself is appended to the ledger; this only stops it being processed twice.
ALTER TABLE point_ledger ADD COLUMN expiry_done BIGINT NOT NULL DEFAULT 0;
CREATE INDEX point_ledger_expiring ON point_ledger (expires_at, id) WHERE expires_at > 0 AND expiry_done = 0;

CREATE INDEX coupon_activations_coupon_follower ON coupon_activations (coupon_id, follower_id, status);
CREATE INDEX coupon_activations_redeemed ON coupon_activations (redeemed_at) WHERE status = 'redeemed';
CREATE INDEX engagements_program ON engagements (program_id, kind, status) WHERE program_id IS NOT NULL;
CREATE INDEX follows_partner_day ON follows (tenant_id, followed_at);
CREATE INDEX notifications_unread ON notifications (follower_id) WHERE read_at = 0;
CREATE INDEX message_deliveries_engagement ON message_deliveries (engagement_id, follower_id);
