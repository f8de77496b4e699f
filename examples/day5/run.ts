// run.ts is the day-5 demo in one command (`npm run example`): three cache processes, the first with the API
// server, then three concurrent requests for Tom, of which the slow database sees one.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '8001,8002,8003' },
    'api-port': { type: 'string', default: '9999' },
    key: { type: 'string', default: 'Tom' },
  },
});
const ports = values.peers.split(',');
const server = fileURLToPath(new URL('./server.js', import.meta.url));
const children: ChildProcess[] = ports.map((port, i) => {
  const args = [server, '--port', port, '--peers', values.peers, ...(i === 0 ? ['--api', '--api-port', values['api-port']] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout!.on('data', (chunk: Buffer) => process.stdout.write(chunk.toString().replace(/^(?=.)/gm, `[${port}] `)));
  return child;
});
const stopAll = () => children.forEach((child) => child.kill('SIGTERM'));
process.on('SIGINT', stopAll);

const api = `http://127.0.0.1:${values['api-port']}/api?key=${encodeURIComponent(values.key)}`;
try {
  // Wait until every server answers, as the tutorial's run.sh sleeps: any HTTP answer will do.
  const up = [...ports.map((port) => `http://127.0.0.1:${port}/`), `http://127.0.0.1:${values['api-port']}/`];
  for (let tries = 0; ; tries++) {
    const answers = await Promise.allSettled(up.map((url) => fetch(url)));
    if (answers.every((answer) => answer.status === 'fulfilled')) break;
    if (tries === 100) throw new Error('the servers did not start within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log('>>> start test');
  const answers = await Promise.all([1, 2, 3].map(async () => (await fetch(api)).text()));
  for (const answer of answers) console.log(answer);
} finally {
  stopAll();
  await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
}
