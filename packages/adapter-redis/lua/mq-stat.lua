-- msgctl(IPC_STAT). KEYS[1] meta. ARGV: id, uid, gid
local meta = KEYS[1]
if not alive(meta, ARGV[1]) then return {'EINVAL'} end
if not permitted(meta, tonumber(ARGV[2]), tonumber(ARGV[3]), 4) then return {'EACCES'} end
local f = redis.call('HMGET', meta, 'key', 'uid', 'gid', 'cuid', 'cgid', 'mode', 'qbytes', 'qnum', 'cbytes',
  'lspid', 'lrpid', 'stime', 'rtime', 'ctime')
return {'OK', unpack(f)}
