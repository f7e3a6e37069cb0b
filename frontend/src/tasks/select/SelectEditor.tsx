// Pass 1 editor: being built (F1). Until then the placeholder lets the task be skipped.
export { default } from "@/components/PlaceholderEditor";
