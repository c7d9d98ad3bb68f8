/**
 * Envoy's own view: its admin config (`/config_dump`, istioctl proxy-config … -o json), judged per
 * upstream cluster against the middlebox idle timeout, and its `/stats` / `/clusters` counters
 * compared across snapshots (the stale-reuse signature). Read with `readEnvoyText`, judge with
 * `analyzeEnvoy`.
 */
export { readEnvoyText, type EnvoyInput } from './read.js';
export { configFromJson, durationSeconds, envoyAddress, type EnvoyAddress, type ClusterConfig, type EnvoyConfig, type ListenerConfig, type SocketOptionConfig, type TcpKeepaliveConfig } from './config.js';
export { analyzeEnvoy, ENVOY_DEFAULT_IDLE_TIMEOUT_SECONDS, type ClusterCounterVerdict, type ClusterVerdict, type EnvoyOptions, type EnvoyReport } from './analyze.js';
export { clustersFromText, statsFromText, STAT_NAMES, type CounterSnapshot } from './counters.js';
export { compareSnapshots, type ClusterCounters, type CounterSeries, type StatValue } from './signature.js';
export { EnvoyInputError, firstJsonError } from './errors.js';
