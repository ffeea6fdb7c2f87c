import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { annexgateHook, hookAction } from "./install-hooks.js";

describe("install-hooks", () => {
  it("writes where there is no hook or annexgate's, replaces stock's, leaves any other", () => {
    assert.equal(hookAction(null), "write");
    assert.equal(hookAction(annexgateHook()), "write");
    const stock =
      "#!/bin/sh\n# automatically configured by git-annex\nif git annex post-receive --help >/dev/null 2>&1; then git annex post-receive; fi\n";
    assert.equal(hookAction(stock), "replace-stock");
    assert.equal(hookAction(`${stock}echo more\n`), "foreign");
    assert.equal(hookAction("#!/bin/sh\nexit 0\n"), "foreign");
  });
});
