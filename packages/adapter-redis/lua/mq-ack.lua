-- Acknowledges received messages of a handle that is closing: their claims are dropped.
-- KEYS[1] claims. ARGV: handle, acknowledged requests (comma-separated)
for n in string.gmatch(ARGV[2], '[^,]+') do redis.call('HDEL', KEYS[1], ARGV[1] .. ':' .. n) end
return {'OK'}
