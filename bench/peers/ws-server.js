// The node.js `ws` broadcast server users would write: GET /ws?channel=C, frames
// {"type":"message","channel","id","data"}, POST /publish.
'use strict';

const http = require('http');
const { WebSocketServer } = require('ws');
const { port, channelOf, handlePublish, reply } = require('./common');

const channels = new Map(); // channel -> Set<WebSocket>
let lastId = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/publish') {
    return handlePublish(req, res, (channel, data) => {
      const id = ++lastId;
      // Serialized once; ws frames it per client.
      const frame = JSON.stringify({ type: 'message', channel, id: String(id), data });
      for (const ws of channels.get(channel) || []) ws.send(frame);
      return id;
    });
  }
  if (req.url === '/healthz') return reply(res, 200, 'ok');
  reply(res, 404, { error: 'not found' });
});

const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
server.on('upgrade', (req, socket, head) => {
  const channel = channelOf(req.url);
  if (!req.url.startsWith('/ws') || !channel) return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => {
    let members = channels.get(channel);
    if (!members) channels.set(channel, (members = new Set()));
    members.add(ws);
    ws.on('close', () => members.delete(ws));
    ws.on('error', () => {});
  });
});

server.listen(port(), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
