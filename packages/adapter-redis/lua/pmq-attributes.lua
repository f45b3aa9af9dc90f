-- mq_getattr. KEYS: name, tag. ARGV: gen
local f = redis.call('HMGET', KEYS[2] .. ':g' .. ARGV[1], 'maxmsg', 'msgsize', 'curmsgs')
if not f[1] then return {'EBADF'} end
return {'OK', f[1], f[2], f[3]}
