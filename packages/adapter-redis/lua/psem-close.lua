-- sem_close: one handle fewer for this client; an unlinked semaphore goes with its last handle.
-- KEYS: name, tag. ARGV: gen, clientId, count (handles to drop, 0 = all of the client's)
local refs = KEYS[2] .. ':r' .. ARGV[1]
local left = 0
if ARGV[3] == '0' then
  redis.call('HDEL', refs, ARGV[2])
else
  left = redis.call('HINCRBY', refs, ARGV[2], -tonumber(ARGV[3]))
  if left <= 0 then redis.call('HDEL', refs, ARGV[2]) end
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] and redis.call('HLEN', refs) == 0 then
  redis.call('DEL', KEYS[2] .. ':g' .. ARGV[1], refs)
end
return {'OK'}
