// Socket.IO with @socket.io/redis-adapter: the usual node.js answer for several
// instances. Clients join the room named by ?channel=C; POST /publish emits
// "message" with the envelope to that room on every instance through Redis.
'use strict';

const http = require('http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');
const { port, channelOf, handlePublish, reply } = require('./common');

async function main() {
  const pub = createClient({ url: process.env.REDIS_URL || 'redis://127.0.0.1:6379' });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);

  let lastId = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/publish') {
      return handlePublish(req, res, (channel, data) => {
        const id = `${port()}-${++lastId}`;
        io.to(channel).emit('message', { channel, id, data });
        return id;
      });
    }
    if (req.url === '/healthz') return reply(res, 200, 'ok');
    // Everything else (/socket.io/) belongs to Socket.IO.
    if (!req.url.startsWith('/socket.io/')) reply(res, 404, { error: 'not found' });
  });
  const io = new Server(server, { transports: ['websocket'], adapter: createAdapter(pub, sub) });
  io.on('connection', (socket) => {
    const channel = channelOf(socket.request.url);
    if (channel) socket.join(channel);
  });
  server.listen(port(), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
