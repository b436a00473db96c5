// Entry point of static/vendor/blindrsa.bundle.js (built by `make vendor`; do not edit the bundle).
// Exposes the RFC 9474 variant the server speaks as window.RedbuttonBlindRSA.
import { RSABSSA } from '@cloudflare/blindrsa-ts';

export function suite() {
  return RSABSSA.SHA384.PSS.Randomized();
}
