// Istio 1.9 → 1.22 default TEXT access-log format (EnvoyTextLogFormatIstio19), rendered and
// parsed from the format string itself so the lab's logs cannot drift from it.
// Source: istio/istio pilot/pkg/networking/core/v1alpha3/accesslog.go (see
// /work/shared/reference/anchors.md §1.2).

export const ISTIO_19_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  '%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% ' +
  '"%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% ' +
  '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% ' +
  '%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% ' +
  '%REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

// The same line with `%UPSTREAM_CONNECTION_ID%` appended (Envoy ≥ 1.30): the format docs/logs.md
// tells users to put in meshConfig.accessLogFormat so that `flowdoc logs` can group requests per
// pooled connection (issue 15). Scenarios with `connectionIds: true` log with it.
export const CONNECTION_ID_TEXT_FORMAT = ISTIO_19_TEXT_FORMAT.replace(/\n$/, ' %UPSTREAM_CONNECTION_ID%\n');

// Envoy local-reply bodies (their length is what %BYTES_SENT% shows for a local reply).
export const LOCAL_REPLY = {
  UC: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  UT: 'upstream request timeout',
};

const OP = /%([A-Z_]+(?:\([^)]*\))?)%/g;

/** Split the format string into literal text and operator names. */
function tokens(format) {
  const out = [];
  let last = 0;
  for (const m of format.matchAll(OP)) {
    if (m.index > last) out.push({ text: format.slice(last, m.index) });
    out.push({ op: m[1] });
    last = m.index + m[0].length;
  }
  if (last < format.length) out.push({ text: format.slice(last) });
  return out;
}

/** Render one line. `values` maps operator (e.g. "START_TIME", "REQ(X-REQUEST-ID)") to a value;
 * missing / null / empty values are written as "-", as Envoy does. */
export function render(values, format = ISTIO_19_TEXT_FORMAT) {
  return tokens(format)
    .map((t) => {
      if (t.text !== undefined) return t.text;
      const v = values[t.op];
      return v === undefined || v === null || v === '' ? '-' : String(v);
    })
    .join('');
}

/** Compile the format into a parser: returns (line) => { [op]: string } | null. */
export function compile(format = ISTIO_19_TEXT_FORMAT) {
  const ts = tokens(format.replace(/\n$/, ''));
  const names = [];
  let re = '^';
  ts.forEach((t, i) => {
    if (t.text !== undefined) {
      re += t.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else {
      const quoted = ts[i - 1]?.text?.endsWith('"') && ts[i + 1]?.text?.startsWith('"');
      re += quoted ? '([^"]*)' : '(\\S+)';
      names.push(t.op);
    }
  });
  const rx = new RegExp(re + '$');
  return (line) => {
    const m = rx.exec(line);
    if (!m) return null;
    return Object.fromEntries(names.map((n, i) => [n, m[i + 1]]));
  };
}

/** Envoy's rendering of an address: ip:port, IPv6 in brackets. */
export function hostPort(ip, port) {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
