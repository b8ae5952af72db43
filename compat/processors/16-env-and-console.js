// Configuration from the environment, with defaults, and console output.
function loadTenant(context, events, done) {
  context.vars.apiUser = process.env.CORPUS_API_USER || 'demo';
  context.vars.apiPassword = process.env.CORPUS_API_PASSWORD || 'demo-password';
  if (!process.env.CORPUS_TENANT) {
    return done(new Error('set CORPUS_TENANT to the tenant to test'));
  }
  console.log(`tenant ${process.env.CORPUS_TENANT} as ${context.vars.apiUser}`);
  done();
}

function basicAuth(requestParams, context, events, next) {
  requestParams.headers = requestParams.headers || {};
  const pair = `${context.vars.apiUser}:${context.vars.apiPassword}`;
  requestParams.headers.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
  next();
}

module.exports = { loadTenant, basicAuth };
