-- A cancelled send gives up its place: if it was its handle's waiting send, the sends behind it
-- may go. KEYS[1] blocked. ARGV: handle, send number, tag
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('PUBLISH', ARGV[3] .. ':ch', 'u')
end
return {'OK'}
