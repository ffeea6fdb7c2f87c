/**
 * Bytes and text without Node's Buffer: the HTTP codec runs in browsers too
 * (the client library), so it works on Uint8Array with the web platform's
 * TextEncoder, TextDecoder, btoa and atob, which Node has as well.
 */

const ENCODER = new TextEncoder();
const LOSSY_UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** The UTF-8 bytes of a string. */
export function utf8Bytes(text: string): Uint8Array {
  return ENCODER.encode(text);
}

/** UTF-8 bytes as text, each ill-formed sequence becoming U+FFFD. */
export function utf8TextLossy(bytes: Uint8Array): string {
  return LOSSY_UTF8.decode(bytes);
}

/** How many bytes a string takes in UTF-8. */
export function utf8Length(text: string): number {
  return ENCODER.encode(text).length;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Standard base64, padded. */
export function base64Encode(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** base64url (RFC 4648 §5), padded. */
export function base64UrlEncode(bytes: Uint8Array): string {
  return base64Encode(bytes).replace(/\+/g, "-").replace(/\//g, "_");
}

/**
 * An `Authorization` header for HTTP basic auth as git-annex writes and
 * reads it: "user:password" in padded base64url, not the standard alphabet
 * (P2P/Http/Types.hs uses Base64Url both ways, so a server of git-annex's
 * refuses a password whose standard encoding has "+" or "/").
 */
export function basicAuthHeader(user: string, password: string): string {
  return `Basic ${base64UrlEncode(utf8Bytes(`${user}:${password}`))}`;
}

/** Decode base64url text the caller has checked (alphabet and padding). */
export function base64UrlDecode(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
