/** A short, stable, non-cryptographic hash (FNV-1a, 8 hex digits) for names: sockets, indexes. */
export function shortHash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, "0");
}
