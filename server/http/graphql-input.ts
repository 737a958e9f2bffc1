// Client mistakes in a GraphQL request's input, refused at the edge before any resolver runs, over
// HTTP and WebSocket alike: variables are coerced here with messages that never quote a value
// (graphql-js's do, and a copy of them used to be logged), strings holding control characters
// are refused wherever they come in (variables or literals), and no message suggests a name
// ("Did you mean …?"). Every refusal is BAD_USER_INPUT, answered 400 to graphql-response+json.
import {
  coerceInputValue,
  getNamedType,
  getNullableType,
  getOperationAST,
  GraphQLError,
  isInputObjectType,
  isInputType,
  isLeafType,
  isListType,
  isNonNullType,
  Kind,
  typeFromAST,
  type ASTNode,
  type ExecutionArgs,
  type GraphQLInputType,
  type ValidationContext,
  type ValidationRule,
  type VariableDefinitionNode,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import type { ErrorCode, FieldError } from "../errors.js";
import type { Logger } from "../logger.js";

/** At most this many problems are reported for one request. */
const MAX_PROBLEMS = 10;

/**
 * Input fields whose values may span lines: an end user pastes a PEM private key or a JSON
 * service-account file into a credential field. There, and only there, tab, line feed and
 * carriage return are allowed; every other C0 control character (NUL above all: PostgreSQL
 * refuses it) is refused in every string.
 */
const MULTI_LINE_FIELDS = new Set(["CredentialValueInput.value"]);
const CONTROL_CHARACTER = /[\u0000-\u001f]/;
const CONTROL_CHARACTER_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
/** Half of a UTF-16 surrogate pair alone: not text, and silently replaced on its way to storage. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What is wrong with a string sent for `coordinate` ("Type.field"), if anything. */
export function stringProblem(value: string, coordinate: string | undefined): string | undefined {
  const multiLine = coordinate !== undefined && MULTI_LINE_FIELDS.has(coordinate);
  if ((multiLine ? CONTROL_CHARACTER_BUT_LINE_BREAKS : CONTROL_CHARACTER).test(value)) {
    return multiLine ? "must not contain control characters other than tab, line feed and carriage return" : "must not contain control characters";
  }
  if (LONE_SURROGATE.test(value)) return "must be valid Unicode text";
  return undefined;
}

type Problem = { path: string; field: string; reason: string; message: string; nodes?: ASTNode };

const badInput = (problems: Problem[]) =>
  problems.map(
    (p) =>
      new GraphQLError(p.message, {
        nodes: p.nodes,
        extensions: { code: "BAD_USER_INPUT" satisfies ErrorCode, fieldErrors: [{ field: p.field, message: p.reason }] satisfies FieldError[], http: { spec: true, status: 400 } },
      }),
  );

/** `input.credentials[0].value` from a variable name and a path of keys and indexes. */
const printPath = (root: string, path: readonly (string | number)[]) => path.reduce<string>((s, k) => (typeof k === "number" ? `${s}[${k}]` : `${s}.${k}`), root);
/** The field error's `field`: the path inside the value, or the variable's name for a scalar. */
const fieldOf = (root: string, path: readonly (string | number)[]) => (path.length ? printPath("", path).replace(/^\./, "") : root);

/** The type found at `path` inside a value of `type`, and the input field it belongs to. */
function typeAt(type: GraphQLInputType, path: readonly (string | number)[]): { type: GraphQLInputType | undefined; coordinate: string | undefined } {
  let current: GraphQLInputType | undefined = type;
  let coordinate: string | undefined;
  for (const key of path) {
    const nullable: GraphQLInputType | undefined = current && getNullableType(current);
    if (typeof key === "number") current = nullable && isListType(nullable) ? nullable.ofType : undefined;
    else if (nullable && isInputObjectType(nullable)) {
      current = nullable.getFields()[key]?.type;
      coordinate = `${nullable.name}.${key}`;
    } else current = undefined;
  }
  return { type: current, coordinate };
}

/** Every string in a coerced value that its field does not accept. */
function stringProblems(value: unknown, type: GraphQLInputType, path: (string | number)[], coordinate: string | undefined, out: { path: (string | number)[]; message: string }[]) {
  if (out.length >= MAX_PROBLEMS || value === null || value === undefined) return;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (Array.isArray(value)) value.forEach((item, i) => stringProblems(item, nullable.ofType, [...path, i], coordinate, out));
  } else if (isInputObjectType(nullable)) {
    for (const [name, field] of Object.entries(nullable.getFields())) {
      if (Object.hasOwn(value as object, name)) stringProblems((value as Record<string, unknown>)[name], field.type, [...path, name], `${nullable.name}.${name}`, out);
    }
  } else if (typeof value === "string") {
    const problem = stringProblem(value, coordinate);
    if (problem) out.push({ path, message: problem });
  }
}

/**
 * Coerces one variable like graphql-js does, but reports each problem by its path and the
 * expected type only. graphql-js's messages for scalars and enums quote the value; the others
 * (unknown or missing fields, not an object, null for a non-null type) name types and fields.
 */
function variableProblems(args: ExecutionArgs, def: VariableDefinitionNode, problems: Problem[]) {
  const name = def.variable.name.value;
  const type = typeFromAST(args.schema, def.type as never) as GraphQLInputType | undefined;
  if (!type || !isInputType(type)) return; // refused by validation already
  const inputs = (args.variableValues ?? {}) as Record<string, unknown>;
  /** `reason` is the field error's message; the error's own message says where. */
  const at = (path: (string | number)[], reason: string, says = reason) =>
    problems.push({ path: printPath(name, path), field: fieldOf(name, path), reason, message: `Variable "$${printPath(name, path)}" ${says}`, nodes: def });
  if (!Object.hasOwn(inputs, name) || inputs[name] === undefined) {
    if (isNonNullType(type) && !def.defaultValue) at([], `A value of type "${type}" is required.`, `of required type "${type}" was not provided.`);
    return;
  }
  const value = inputs[name];
  if (value === null) {
    if (isNonNullType(type)) at([], `A value of type "${type}" is required.`, `of non-null type "${type}" must not be null.`);
    return;
  }
  let failed = false;
  const coerced = coerceInputValue(
    value,
    type,
    (path, _invalid, error) => {
      failed = true;
      if (problems.length >= MAX_PROBLEMS) return;
      const found = typeAt(type, path).type;
      // A leaf's own message quotes the value: say only what was expected.
      const reason = found && isLeafType(getNamedType(found)) ? `Expected a value of type "${found}".` : error.message.replace(/ Did you mean [^?]*\?$/, "");
      at([...path], reason, `got an invalid value: ${reason}`);
    },
    true,
  );
  if (failed) return;
  const found: { path: (string | number)[]; message: string }[] = [];
  stringProblems(coerced, type, [], undefined, found);
  for (const f of found) at(f.path, `Must ${f.message.replace(/^must /, "")}.`, `${f.message}.`);
}

/** Problems with the request's variables; empty when they are fine. */
export function checkVariables(args: ExecutionArgs): Problem[] {
  const operation = getOperationAST(args.document, args.operationName ?? undefined);
  const problems: Problem[] = [];
  for (const def of operation?.variableDefinitions ?? []) {
    if (problems.length >= MAX_PROBLEMS) break;
    variableProblems(args, def, problems);
  }
  return problems.slice(0, MAX_PROBLEMS);
}

/** Refuses control characters in the document's own string literals (arguments, defaults). */
export const StringLiteralsRule: ValidationRule = (context: ValidationContext) => ({
  StringValue(node, _key, parent, _path, ancestors) {
    const parentType = context.getParentInputType();
    const named = parentType && getNamedType(parentType);
    const field = parent && !Array.isArray(parent) && (parent as ASTNode).kind === Kind.OBJECT_FIELD ? (parent as { name: { value: string } }).name.value : undefined;
    const problem = stringProblem(node.value, named && field ? `${named.name}.${field}` : undefined);
    if (!problem) return;
    const names: string[] = [];
    for (const a of [...ancestors, parent]) {
      if (!a || Array.isArray(a)) continue;
      const n = a as ASTNode;
      if (n.kind === Kind.ARGUMENT || n.kind === Kind.OBJECT_FIELD) names.push(n.name.value);
      else if (n.kind === Kind.VARIABLE_DEFINITION) names.push(n.variable.name.value); // its default value
    }
    const where = names.join(".");
    context.reportError(
      new GraphQLError(`The string given for "${where}" ${problem}.`, {
        nodes: node,
        extensions: { code: "BAD_USER_INPUT" satisfies ErrorCode, fieldErrors: [{ field: names.slice(1).join(".") || names[0] || "input", message: `Must ${problem.replace(/^must /, "")}.` }] satisfies FieldError[] },
      }),
    );
  },
});

/**
 * The plugin: literal strings checked during validation (cached with the document), variables
 * before execution; suggestions hidden from validation's messages. A refusal is logged at debug
 * with its paths, never a value.
 */
export function inputChecksPlugin(logger: Logger): Plugin {
  const refuse = (args: ExecutionArgs, stop: (result: { errors: GraphQLError[] }) => void) => {
    const problems = checkVariables(args);
    if (!problems.length) return;
    const requestId = (args.contextValue as { requestId?: string } | undefined)?.requestId;
    logger.debug({ requestId, code: "BAD_USER_INPUT", paths: problems.map((p) => p.path) }, "variables refused");
    stop({ errors: badInput(problems) });
  };
  return {
    onValidate({ addValidationRule, validateFn, setValidationFn }) {
      addValidationRule(StringLiteralsRule);
      // graphql-js's order: (schema, document, rules, options, typeInfo).
      setValidationFn((schema, document, rules, options, typeInfo) => validateFn(schema, document, rules, { ...options, hideSuggestions: true }, typeInfo));
    },
    onExecute({ args, setResultAndStopExecution }) {
      refuse(args, setResultAndStopExecution as never);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      refuse(args, setResultAndStopExecution as never);
    },
  };
}
