// aws4 from node_modules signs the request; the signing time and host are fixed here so the
// signature can be compared with the one Node computes for the same request.
const aws4 = require('aws4');

const CREDENTIALS = {
  accessKeyId: process.env.CORPUS_AWS_KEY_ID || 'AKIDEXAMPLE',
  secretAccessKey: process.env.CORPUS_AWS_SECRET || 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

function signV4(requestParams, context, events, next) {
  requestParams.headers = requestParams.headers || {};
  const target = new URL(requestParams.url);
  const body = JSON.stringify(requestParams.json);
  const signed = aws4.sign(
    {
      host: 'api.example.test',
      path: target.pathname + target.search,
      method: requestParams.method,
      service: 'execute-api',
      region: 'eu-west-1',
      body,
      headers: { 'Content-Type': 'application/json', 'X-Amz-Date': '20260102T030405Z' },
    },
    CREDENTIALS,
  );
  requestParams.body = body;
  delete requestParams.json;
  for (const name of ['Authorization', 'X-Amz-Date', 'Content-Type']) {
    requestParams.headers[name.toLowerCase()] = signed.headers[name];
  }
  // The signature alone, for the server's logs.
  requestParams.headers['x-amz-signature'] = signed.headers.Authorization.split('Signature=')[1];
  next();
}

module.exports = { signV4 };
