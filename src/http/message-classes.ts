// message-classes.ts gives node:http servers request and response classes that Express uses as they are.
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, Request, Response } from 'express';

export interface MessageClasses {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}

/**
 * Express re-parents every request and response it handles (`Object.setPrototypeOf(req, app.request)`).
 * On a server whose hot routes bypass Express, that gives Node's own stream and HTTP code two object
 * shapes for the same calls; after a few Express requests (one `/metrics` scrape) its optimised code
 * turns polymorphic and the hot path runs about 10% slower for the rest of the process's life.
 *
 * Here the server creates every request and response from subclasses whose prototypes sit in front of
 * Express's, and Express is told to use those prototypes: its re-parenting sets the prototype an object
 * already has, which V8 skips, so every object keeps the shape it was born with.
 */
export function expressMessageClasses(app: Express): MessageClasses {
  class AppRequest extends IncomingMessage {}
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  app.request = AppRequest.prototype as unknown as Request;
  class AppResponse<R extends IncomingMessage = IncomingMessage> extends ServerResponse<R> {}
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  app.response = AppResponse.prototype as unknown as Response;
  return { IncomingMessage: AppRequest, ServerResponse: AppResponse as typeof ServerResponse };
}
