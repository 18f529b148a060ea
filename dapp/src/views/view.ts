// What the shell asks of a view: build its DOM (again on a language switch), follow new data.
export type ViewId = "customer" | "merchant" | "auditor";

export interface View {
  readonly id: ViewId;
  readonly root: HTMLElement;
  /** Build the whole view (on mount and on a language switch); keeps form values. */
  render(): void;
  /** New data: the mirror indexed a block, the chain moved, or the wallet changed. */
  refresh(reason: "indexed" | "head" | "wallet"): Promise<void>;
  destroy(): void;
}
