// A plain node.js SSE server: GET /events?channel=C (text/event-stream), POST /publish.
'use strict';

const http = require('http');
const { port, channelOf, handlePublish, reply } = require('./common');

const channels = new Map(); // channel -> Set<ServerResponse>
let lastId = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/publish') {
    return handlePublish(req, res, (channel, data) => {
      const id = ++lastId;
      const event = `id: ${id}\ndata: ${JSON.stringify({ channel, id: String(id), data })}\n\n`;
      for (const client of channels.get(channel) || []) client.write(event);
      return id;
    });
  }
  if (req.method === 'GET' && req.url.startsWith('/events')) {
    const channel = channelOf(req.url);
    if (!channel) return reply(res, 400, { error: 'channel required' });
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    let members = channels.get(channel);
    if (!members) channels.set(channel, (members = new Set()));
    members.add(res);
    req.on('close', () => members.delete(res));
    return;
  }
  if (req.url === '/healthz') return reply(res, 200, 'ok');
  reply(res, 404, { error: 'not found' });
});

// Keep-alive comments, as the generated service sends them.
setInterval(() => {
  for (const members of channels.values()) for (const res of members) res.write(': keep-alive\n\n');
}, 15000).unref();
server.keepAliveTimeout = 0;
server.requestTimeout = 0;
server.listen(port(), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
