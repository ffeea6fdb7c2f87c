/**
 * @module
 * The key an annexed file names in git: a symlink's target or an unlocked
 * file's pointer (Annex/Link.hs `parseLinkTargetOrPointer`), and the key
 * a key file name stands for (Annex/Locations.hs `fileKey`, the inverse
 * of `keyFile`). Pure: the caller reads the blob.
 */
import { BadKeyError, type Key, parseKey } from "./key.js";

/** Larger blobs are never pointers (Annex/Link.hs `maxValidPointerSz`). */
export const MAX_POINTER_SIZE = 32768;

/** What a link to an annexed object contains (`/` + `annex/objects`). */
const LINK_MARK = "/annex/objects/";
/** What every further line of a pointer file must contain (`validPointerLineTag`). */
const POINTER_LINE_TAG = "/annex/";

/**
 * The key a key file name stands for, or null: "%" is "/", and after "&"
 * "c" is ":", "s" is "%", "a" is "&" (another character after "&" stands
 * for itself, as in git-annex).
 *
 * @example
 * fileKey("SHA256E-s5--abc&ad&se&cf.txt") // the key "SHA256E-s5--abc&d%e:f.txt"
 */
export function fileKey(name: string): Key | null {
  const text = name
    .split("%")
    .map((part) => {
      const [first, ...rest] = part.split("&");
      return (
        (first ?? "") +
        rest
          .map((r) => {
            if (r === "") return "";
            const c = r.charAt(0);
            const tail = r.slice(1);
            if (c === "c") return `:${tail}`;
            if (c === "s") return `%${tail}`;
            if (c === "a") return `&${tail}`;
            return r;
          })
          .join("")
      );
    })
    .join("/");
  try {
    return parseKey(text);
  } catch (e) {
    if (e instanceof BadKeyError) return null;
    throw e;
  }
}

/**
 * The key a symlink target or a pointer file's content names, or null
 * when it names none (or is a pointer file with content appended, which
 * git-annex does not take as a pointer either).
 */
export function keyOfLinkOrPointer(content: Buffer): Key | null {
  const nl = content.indexOf(0x0a);
  let first = (nl < 0 ? content : content.subarray(0, nl)).toString("utf8");
  if (first.endsWith("\r")) first = first.slice(0, -1);
  if (!first.includes(LINK_MARK)) return null;
  const key = fileKey(first.slice(first.lastIndexOf("/") + 1));
  if (key === null) return null;
  if (content.length > MAX_POINTER_SIZE) return null;
  if (nl < 0) return key;
  // Every further line must carry the tag and end with a newline.
  const rest = content.subarray(nl + 1).toString("utf8");
  if (rest === "") return key;
  if (!rest.endsWith("\n")) return null;
  const lines = rest.slice(0, -1).split("\n");
  return lines.every((l) => l.includes(POINTER_LINE_TAG)) ? key : null;
}
