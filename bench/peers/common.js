// What every peer shares: the rtgen HTTP API's publish endpoint and channel names,
// so the load client speaks to peers and generated services alike.
'use strict';

const CHANNEL = /^[A-Za-z0-9_:.-]{1,128}$/;
const MAX_BODY = 64 * 1024;

function port() {
  return Number(process.env.PORT || 3000);
}

function channelOf(url) {
  const channel = new URL(url, 'http://x').searchParams.get('channel');
  return channel && CHANNEL.test(channel) ? channel : null;
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// POST /publish {"channel": "...", "data": <json>} -> deliver(channel, id, data) -> 200 {"id"}.
function handlePublish(req, res, deliver) {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      reply(res, 413, { error: 'body over 64 KiB' });
      req.destroy();
    } else {
      chunks.push(chunk);
    }
  });
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      return reply(res, 400, { error: 'invalid JSON' });
    }
    if (!body || typeof body.channel !== 'string' || !CHANNEL.test(body.channel) || !('data' in body)) {
      return reply(res, 400, { error: 'expected {"channel": "...", "data": <json>}' });
    }
    Promise.resolve(deliver(body.channel, body.data))
      .then((id) => reply(res, 200, { id: String(id) }))
      .catch((e) => reply(res, 503, { error: String(e) }));
  });
}

module.exports = { port, channelOf, handlePublish, reply };
