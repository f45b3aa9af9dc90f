-- A registered receive that gives up (abort, timeout, close): if it is still registered, it is
-- removed ('OK': nothing was handed to it). Otherwise a send handed it a message, kept as its
-- claim, now on its way through the inbox ('GONE': the caller takes that delivery); with no claim
-- either (its client was reaped meanwhile, or it was handed an error), nothing is on its way ('OK').
-- KEYS: waiters, wq, claims. ARGV: waiter
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('LREM', KEYS[2], 1, entry)
  return {'OK'}
end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return {'GONE'} end
return {'OK'}
