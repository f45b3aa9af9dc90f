-- Drops a client from the lease set once it was reaped (its undo records applied, its waits and
-- handles forgotten), even if it renewed meanwhile: a client that was only stalled then finds
-- itself missing at its next renewal (lease-renew.lua answers 'REAPED') and records its state
-- again, instead of keeping a lease whose state is gone.
-- KEYS[1] clients. ARGV: clientId
redis.call('ZREM', KEYS[1], ARGV[1])
return {'OK'}
