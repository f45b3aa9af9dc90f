-- mq_open: as psem-open.lua, the name holds the generation; the queue is '<tag>:g<gen>' (limits,
-- count, owner), its messages '<tag>:q<gen>' (zset, score orders highest priority first, then
-- FIFO) with payloads in '<tag>:d<gen>', and open handles per client in '<tag>:r<gen>'.
-- KEYS: name, tag. ARGV: create, exclusive, mode, maxmsg, msgsize, uid, gid, clientId, newGen, want (4 read, 2 write),
--   valid (1 when maxmsg and msgsize are within the limits: checked only if the queue is created, as Linux does)
local name, tag = KEYS[1], KEYS[2]
local gen = redis.call('GET', name)
if gen then
  if ARGV[2] == '1' then return {'EEXIST'} end
  if not permitted(tag .. ':g' .. gen, tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[10])) then return {'EACCES'} end
else
  if ARGV[1] ~= '1' then return {'ENOENT'} end
  if ARGV[11] ~= '1' then return {'EINVAL'} end
  gen = ARGV[9]
  redis.call('SET', name, gen)
  redis.call('HSET', tag .. ':g' .. gen, 'maxmsg', ARGV[4], 'msgsize', ARGV[5], 'curmsgs', 0, 'seq', 0, 'mode', ARGV[3],
    'uid', ARGV[6], 'gid', ARGV[7], 'cuid', ARGV[6], 'cgid', ARGV[7])
end
redis.call('HINCRBY', tag .. ':r' .. gen, ARGV[8], 1)
local f = redis.call('HMGET', tag .. ':g' .. gen, 'maxmsg', 'msgsize')
return {'OK', gen, f[1], f[2]}
