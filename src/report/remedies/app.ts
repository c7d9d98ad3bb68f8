/**
 * Application-side fixes: the HTTP client's pool idle timeout and the socket's TCP keepalive, for
 * Go, Node.js, Java and Python, filled in with the computed numbers.
 */
import type { KeepaliveSettings, RemedySnippet } from './types.js';
import { oneLine } from './yaml.js';

export interface AppFix {
  /** What the values are for, e.g. `10.0.0.9:80 (api.example.com)`; goes into comments, sanitised. */
  readonly target: string;
  readonly keepalive: KeepaliveSettings | null;
  readonly idleTimeoutSeconds: number | null;
  /** Whether the connections carry HTTP (pool settings apply) or other TCP (only socket options do). */
  readonly http: boolean;
}

export function appSnippets(f: AppFix): RemedySnippet[] {
  if (!f.keepalive && f.idleTimeoutSeconds === null) return [];
  return [goSnippet(f), nodeSnippet(f), javaSnippet(f), pythonSnippet(f)].filter((s): s is RemedySnippet => s !== null);
}

function goSnippet(f: AppFix): RemedySnippet {
  const k = f.keepalive;
  const t = oneLine(f.target);
  const lines = [`// Connections to ${t}.`];
  if (k) {
    lines.push(
      'dialer := &net.Dialer{',
      '\tKeepAliveConfig: net.KeepAliveConfig{ // Go 1.23+',
      '\t\tEnable:   true,',
      `\t\tIdle:     ${k.idleSeconds} * time.Second,`,
      `\t\tInterval: ${k.intervalSeconds} * time.Second,`,
      `\t\tCount:    ${k.probes},`,
      '\t},',
      `\t// Before Go 1.23: KeepAlive: ${k.idleSeconds} * time.Second (used for both idle and interval; the OS sets the count).`,
      '}',
    );
  }
  if (f.http) {
    lines.push('transport := &http.Transport{');
    if (k) lines.push('\tDialContext:     dialer.DialContext,');
    if (f.idleTimeoutSeconds !== null) lines.push(`\tIdleConnTimeout: ${f.idleTimeoutSeconds} * time.Second, // close pooled connections idle longer than this`);
    lines.push('}', 'client := &http.Client{Transport: transport}');
  } else if (k) {
    lines.push('conn, err := dialer.Dial("tcp", addr)');
  }
  return {
    layer: 'application', title: 'Go (net, net/http)', language: 'go', code: lines.join('\n') + '\n',
    note: k ? 'Go turns keepalive on by default (15 s) unless KeepAlive is negative; an explicit config makes the timing fit this path.' : 'Keepalive is not the fix here; only the pool idle timeout is.',
  };
}

function nodeSnippet(f: AppFix): RemedySnippet {
  const k = f.keepalive;
  const t = oneLine(f.target);
  const lines = [`// Connections to ${t}.`];
  if (f.http) {
    const opts = ['keepAlive: true'];
    if (k) opts.push(`keepAliveMsecs: ${k.idleSeconds * 1000}`);
    if (f.idleTimeoutSeconds !== null) opts.push(`timeout: ${f.idleTimeoutSeconds * 1000}`);
    lines.push(`const agent = new http.Agent({ ${opts.join(', ')} });`);
    if (k) lines.push(`// keepAliveMsecs: first TCP keepalive probe after ${k.idleSeconds} s idle (the agent calls socket.setKeepAlive(true, keepAliveMsecs)).`);
    if (f.idleTimeoutSeconds !== null) lines.push(`// timeout: sockets idle ${f.idleTimeoutSeconds} s time out; the agent destroys free sockets that do, so they are not reused.`);
    lines.push("http.get({ host, port, path: '/', agent }, onResponse);");
  } else if (k) {
    lines.push(`socket.setKeepAlive(true, ${k.idleSeconds * 1000}); // first probe after ${k.idleSeconds} s idle`);
  }
  if (!f.http && f.idleTimeoutSeconds !== null) {
    lines.push(`socket.setTimeout(${f.idleTimeoutSeconds * 1000}, () => socket.destroy()); // close it after ${f.idleTimeoutSeconds} s idle`);
  }
  return {
    layer: 'application', title: 'Node.js (http.Agent, net.Socket)', language: 'javascript', code: lines.join('\n') + '\n',
    note: k ? `Node sets only the idle time; the interval and probe count come from Node itself, so the give-up time may differ from ${k.giveUpSeconds} s.` : 'Only the idle timeout matters here.',
  };
}

function javaSnippet(f: AppFix): RemedySnippet {
  const k = f.keepalive;
  const h = f.idleTimeoutSeconds;
  const t = oneLine(f.target);
  const lines = [`// Connections to ${t}.`];
  if (f.http && h !== null) {
    lines.push(
      '// JDK java.net.http.HttpClient: pooled connections idle longer than this many seconds are closed',
      `System.setProperty("jdk.httpclient.keepalive.timeout", "${h}"); // or -Djdk.httpclient.keepalive.timeout=${h}`,
      '',
      '// OkHttp (5 idle connections is OkHttp\'s own default; the duration is what matters)',
      'OkHttpClient ok = new OkHttpClient.Builder()',
      `    .connectionPool(new ConnectionPool(5, ${h}, TimeUnit.SECONDS))`,
      '    .build();',
      '',
      '// Apache HttpClient 4.x (5.x: evictIdleConnections(TimeValue.ofSeconds(...)))',
      'CloseableHttpClient apache = HttpClients.custom()',
      `    .evictIdleConnections(${h}, TimeUnit.SECONDS)`,
    );
    if (k) lines.push('    .setDefaultSocketConfig(SocketConfig.custom().setSoKeepAlive(true).build())');
    lines.push('    .build();');
  }
  if (k) {
    if (lines.length > 1) lines.push('');
    lines.push(
      '// TCP keepalive timing on a socket (JDK 11+, jdk.net.ExtendedSocketOptions)',
      'socket.setOption(StandardSocketOptions.SO_KEEPALIVE, true);',
      `socket.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, ${k.idleSeconds});`,
      `socket.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, ${k.intervalSeconds});`,
      `socket.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, ${k.probes});`,
    );
  } else if (!f.http && h !== null) {
    lines.push(`socket.setSoTimeout(${h * 1000}); // reads time out after ${h} s idle: close and reconnect`);
  }
  return {
    layer: 'application', title: 'Java (JDK HttpClient, OkHttp, Apache HttpClient)', language: 'java', code: lines.join('\n') + '\n',
    note: 'Apache HttpClient keeps idle connections forever unless told to evict them; SO_KEEPALIVE alone uses the OS timing (Linux: first probe after 7200 s).',
  };
}

function pythonSnippet(f: AppFix): RemedySnippet {
  const k = f.keepalive;
  const h = f.idleTimeoutSeconds;
  const t = oneLine(f.target);
  const lines = [`# Connections to ${t}.`, 'import socket'];
  if (k) {
    lines.push(
      'KEEPALIVE = [',
      '    (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),',
      `    (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, ${k.idleSeconds}),`,
      `    (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, ${k.intervalSeconds}),`,
      `    (socket.IPPROTO_TCP, socket.TCP_KEEPCNT, ${k.probes}),`,
      ']',
    );
    if (f.http) {
      lines.push(
        '',
        '# requests / urllib3: socket options on every pooled connection',
        'import requests',
        'from requests.adapters import HTTPAdapter',
        'from urllib3.connection import HTTPConnection',
        '',
        'class KeepaliveAdapter(HTTPAdapter):',
        '    def init_poolmanager(self, *args, **kwargs):',
        '        kwargs["socket_options"] = HTTPConnection.default_socket_options + KEEPALIVE',
        '        super().init_poolmanager(*args, **kwargs)',
        '',
        'session = requests.Session()',
        'session.mount("http://", KeepaliveAdapter())',
        'session.mount("https://", KeepaliveAdapter())',
      );
    } else {
      lines.push('for level, name, value in KEEPALIVE:', '    sock.setsockopt(level, name, value)');
    }
  }
  if (f.http && h !== null) {
    lines.push(
      '',
      '# aiohttp: close pooled connections idle longer than this',
      'import aiohttp',
      `connector = aiohttp.TCPConnector(keepalive_timeout=${h})`,
    );
  }
  return {
    layer: 'application', title: 'Python (requests/urllib3, aiohttp)', language: 'python', code: lines.join('\n') + '\n',
    note: f.http ? 'requests/urllib3 never close idle pooled connections by themselves: with them keepalive (or a fresh Session) is the fix; aiohttp has keepalive_timeout.' : 'Set the options before connect().',
  };
}
