// Parses a JSON response by hand: filter, sort and fall back, which a capture's JSONPath cannot do.
function pickCheapestAbove(requestParams, response, context, events, next) {
  if (response.statusCode !== 200) {
    return next(new Error(`listing failed with status ${response.statusCode}`));
  }
  let doc;
  try {
    doc = JSON.parse(response.body);
  } catch (err) {
    return next(new Error(`the listing is not JSON: ${err.message}`));
  }
  const floor = Number(context.vars.minPrice);
  const candidates = (doc.items || [])
    .filter((item) => typeof item.price === 'number' && item.price > floor)
    .sort((a, b) => a.price - b.price || a.id - b.id);
  const chosen = candidates[0] || doc.items[doc.items.length - 1];
  context.vars.pickedId = chosen.id;
  context.vars.pickedPrice = chosen.price.toFixed(2);
  events.emit('histogram', 'items.listed', doc.items.length);
  return next();
}

module.exports = { pickCheapestAbove };
