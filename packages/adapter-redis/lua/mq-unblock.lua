-- A cancelled send gives up its place: if it was its handle's waiting send, the sends behind it
-- may go. KEYS: meta (its nblk counts the handles with a waiting send, see mq-send.lua), blocked.
-- ARGV: handle, send number, tag
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'nblk', -1)
  redis.call('PUBLISH', ARGV[3] .. ':ch', 'u')
end
return {'OK'}
