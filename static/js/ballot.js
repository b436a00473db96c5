// The personal ballot page (/b/{member_link}): obtain a blind-signed ballot, then answer with it.
//
// 1. GET /api/v1/ballots/{member_link}        -> {round, public_key (SPKI, base64), issued}
// 2. prepare a random token and blind it       (RFC 9474, RSABSSA-SHA384-PSS-Randomized)
// 3. POST /api/v1/ballots/{member_link}/issue  -> {blind_sig}
// 4. finalize (unblind) and keep {token, signature} in localStorage until the answers are in
// 5. POST /api/v1/pulse/{team_link}/responses with the answers and the ballot
// The server sees the blinded token at step 3 and the real one at step 5 and cannot match them.
(function () {
  'use strict';

  var root = document.getElementById('ballot');
  var form = document.querySelector('form.pulse-form');
  var statusLine = document.getElementById('ballot-status');
  if (!root || !form || !statusLine || root.dataset.inactive === 'true') {
    return;
  }
  var memberLink = root.dataset.memberLink;
  var teamLink = root.dataset.teamLink;
  var round = root.dataset.round;
  var storageKey = 'redbutton.ballot.' + memberLink + '.' + round;
  var ALREADY = 'You have already answered this round. Thank you! The next round opens soon.';
  var TAKEN =
    'Your ballot for this round was already taken, from another browser or before this ' +
    "browser's data was cleared. There is one ballot per person and round.";

  function show(message, isError) {
    statusLine.textContent = message;
    statusLine.hidden = false;
    statusLine.classList.toggle('ballot-error', Boolean(isError));
    if (isError) {
      statusLine.scrollIntoView({ block: 'center' });
    }
  }

  function stored() {
    try {
      return JSON.parse(window.localStorage.getItem(storageKey) || 'null');
    } catch (_error) {
      return null;
    }
  }

  function store(value) {
    window.localStorage.setItem(storageKey, JSON.stringify(value));
  }

  function finish(message) {
    form.hidden = true;
    show(message, false);
    statusLine.scrollIntoView({ block: 'center' });
  }

  function toBase64(bytes) {
    var text = '';
    for (var i = 0; i < bytes.length; i += 1) {
      text += String.fromCharCode(bytes[i]);
    }
    return window.btoa(text);
  }

  function fromBase64(text) {
    var raw = window.atob(text);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  async function api(method, url, body) {
    var response = await fetch(url, {
      method: method,
      headers: body ? { 'Content-Type': 'application/json', Accept: 'application/json' } : { Accept: 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
      credentials: 'omit',
      cache: 'no-store',
    });
    var payload = {};
    try {
      payload = await response.json();
    } catch (_error) {
      payload = {};
    }
    return { status: response.status, body: payload };
  }

  // Steps 1-4: a finalized ballot for this round, from storage or freshly issued.
  async function obtainBallot() {
    var saved = stored();
    if (saved && saved.token && saved.signature) {
      return saved;
    }
    var status = await api('GET', '/api/v1/ballots/' + memberLink);
    if (status.status !== 200) {
      throw new Error(status.body.detail || 'Could not reach the server; please retry.');
    }
    if (status.body.round !== round) {
      throw new Error(
        'The round you opened this form in (' + round + ') has ended. Reload the page to ' +
          'answer the current round.'
      );
    }
    if (status.body.issued) {
      throw new Error(TAKEN);
    }
    var suite = window.RedbuttonBlindRSA.suite();
    var publicKey = await window.crypto.subtle.importKey(
      'spki',
      fromBase64(status.body.public_key),
      { name: 'RSA-PSS', hash: 'SHA-384' },
      true,
      ['verify']
    );
    var token = suite.prepare(window.crypto.getRandomValues(new Uint8Array(32)));
    var blinded = await suite.blind(publicKey, token);
    var issued = await api('POST', '/api/v1/ballots/' + memberLink + '/issue', {
      blinded_msg: toBase64(blinded.blindedMsg),
    });
    if (issued.status !== 200) {
      throw new Error(issued.body.detail || 'The ballot could not be issued; please retry.');
    }
    // finalize() also verifies the signature: a wrong key or a bad signature stops here.
    var signature = await suite.finalize(publicKey, token, fromBase64(issued.body.blind_sig), blinded.inv);
    var ballot = { token: toBase64(token), signature: toBase64(signature) };
    // Kept until the answers are in, so a failed submission can be retried with the same ballot.
    store(ballot);
    return ballot;
  }

  // Only the chosen scale points and the comment: other fields (the round) are not answers.
  function collectAnswers() {
    var answers = {};
    form.querySelectorAll('input[type="radio"]:checked').forEach(function (input) {
      answers[input.name] = parseInt(input.value, 10);
    });
    var commentField = form.querySelector('textarea[name="comment"]');
    var comment = commentField ? commentField.value.trim() || null : null;
    return { answers: answers, comment: comment };
  }

  async function submit(event) {
    event.preventDefault();
    var button = form.querySelector('button[type="submit"]');
    if (button) {
      button.disabled = true;
    }
    show('Getting your anonymous ballot…', false);
    try {
      var ballot = await obtainBallot();
      show('Sending your answers…', false);
      var sheet = collectAnswers();
      var sent = await api('POST', '/api/v1/pulse/' + teamLink + '/responses', {
        answers: sheet.answers,
        comment: sheet.comment,
        ballot: ballot,
      });
      if (sent.status === 201) {
        // The token is spent: forget it, keep only the fact, so this page says so next time.
        store({ spent: true });
        finish('Thank you! Your answers for this round are in, anonymously.');
        return;
      }
      if (sent.status === 409 && /ballot was already used/.test(sent.body.detail || '')) {
        store({ spent: true });
        finish(ALREADY);
        return;
      }
      var problems = (sent.body.errors || []).map(function (error) {
        return error.message;
      });
      throw new Error([sent.body.detail || 'The answers were not accepted.'].concat(problems).join(' '));
    } catch (error) {
      show(error.message || String(error), true);
    } finally {
      if (button) {
        button.disabled = false;
      }
    }
  }

  // Say it before the member fills in the form, not after.
  async function checkOnArrival() {
    var saved = stored();
    if (saved && saved.spent) {
      finish(ALREADY);
      return;
    }
    form.addEventListener('submit', submit);
    if (saved && saved.token) {
      return; // a ballot from an earlier, unfinished attempt: it will be used
    }
    try {
      var status = await api('GET', '/api/v1/ballots/' + memberLink);
      if (status.status === 200 && status.body.issued) {
        form.hidden = true;
        show(TAKEN, true);
      } else if (status.status !== 200 && status.body.detail) {
        form.hidden = true;
        show(status.body.detail, true);
      }
    } catch (_error) {
      // Offline for now: the submit step retries and explains.
    }
  }

  checkOnArrival();
})();
