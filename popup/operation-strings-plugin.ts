// A codegen plugin for the browser bundles: every operation of popup/operations as a plain string
// constant, minified and with the fragments it spreads, typed with the result and variables types
// that `typescript-operations` writes into the same file. The bundles then need neither graphql
// nor graphql-tag at run time, and a bundle keeps only the operations it uses.
import { Kind, print, stripIgnoredCharacters, visit, type ASTNode, type DefinitionNode, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode } from "graphql";

const TYPED_OPERATION = `/** An operation's text as sent on the wire; its result and variables types ride along for the compiler only. */
export type TypedOperation<TResult, TVariables> = string & { readonly __operation?: { result: TResult; variables: TVariables } };`;

/** The suffix `typescript-operations` gives an operation's result type. */
const SUFFIX = { query: "Query", mutation: "Mutation", subscription: "Subscription" } as const;

const isFragment = (d: DefinitionNode): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION;
const isOperation = (d: DefinitionNode): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION;

export function plugin(_schema: GraphQLSchema, documents: { document?: { definitions: readonly DefinitionNode[] } }[]): string {
  const definitions = documents.flatMap((file) => file.document?.definitions ?? []);
  const fragments = new Map(definitions.filter(isFragment).map((f) => [f.name.value, f]));

  /** The fragments `node` spreads, directly or through other fragments. */
  const spreadBy = (node: ASTNode, found = new Set<FragmentDefinitionNode>()) => {
    visit(node, {
      FragmentSpread({ name }) {
        const fragment = fragments.get(name.value);
        if (!fragment || found.has(fragment)) return;
        found.add(fragment);
        spreadBy(fragment, found);
      },
    });
    return found;
  };

  const constants = definitions.filter(isOperation).map((operation) => {
    const name = operation.name?.value;
    if (!name) throw new Error("Every popup operation needs a name: it names the generated constant and types");
    const pascal = name[0]!.toUpperCase() + name.slice(1);
    const result = pascal + SUFFIX[operation.operation];
    const text = stripIgnoredCharacters(print({ kind: Kind.DOCUMENT, definitions: [operation, ...spreadBy(operation)] }));
    return `export const ${pascal}Document = ${JSON.stringify(text)} as TypedOperation<${result}, ${result}Variables>;`;
  });
  return [TYPED_OPERATION, ...constants].join("\n\n") + "\n";
}
