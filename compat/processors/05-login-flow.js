// Login with logic: credentials from a JSON file (module state hands them out in turn), the token
// parsed from the response, then sent as a bearer token on every later request.
const users = require('./data/users.json');

let nextUser = 0;

function pickCredentials(context, events, done) {
  const user = users[nextUser++ % users.length];
  context.vars.username = user.username;
  context.vars.password = user.password;
  context.vars.role = user.role;
  done();
}

function keepToken(requestParams, response, context, events, next) {
  const body = JSON.parse(response.body);
  if (!body.token) {
    return next(new Error(`login for ${context.vars.username} returned no token`));
  }
  context.vars.token = body.token;
  events.emit('counter', 'login.ok', 1);
  next();
}

// Scenario-level: every request after the login carries the token and the user.
function authorize(requestParams, context, events, next) {
  requestParams.headers = requestParams.headers || {};
  if (context.vars.token) {
    requestParams.headers.authorization = `Bearer ${context.vars.token}`;
    requestParams.headers['x-user'] = context.vars.username;
  }
  next();
}

function isAdmin(vars) {
  return vars.role === 'admin';
}

function isMember(vars) {
  return vars.role !== 'admin';
}

module.exports = { pickCredentials, keepToken, authorize, isAdmin, isMember };
