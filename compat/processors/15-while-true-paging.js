// whileTrue(context, next): next(true) runs the loop again.
const LAST_PAGE = 3;

function startPaging(context, events, done) {
  context.vars.page = 1;
  context.vars.fetched = 0;
  done();
}

function nextPage(requestParams, response, context, events, next) {
  const doc = JSON.parse(response.body);
  context.vars.fetched += doc.items.length;
  context.vars.page += 1;
  next();
}

function hasMorePages(context, next) {
  const more = context.vars.page <= LAST_PAGE;
  if (!more) {
    context.vars.done = true;
  }
  return next(more);
}

module.exports = { startPaging, nextPage, hasMorePages };
