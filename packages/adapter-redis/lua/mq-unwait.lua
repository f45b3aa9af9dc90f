-- A registered receive that gives up (abort, timeout, close): if it is still registered, it is
-- removed ('OK': nothing was handed to it); otherwise a send already handed it a message or an
-- error, on its way through the inbox ('GONE': the caller takes that delivery).
-- KEYS: waiters, wq. ARGV: waiter
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('LREM', KEYS[2], 1, entry)
  return {'OK'}
end
return {'GONE'}
