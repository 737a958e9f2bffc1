-- AlterTable
ALTER TABLE "HostedConnectionSession" ADD COLUMN     "closeRequestedAt" TIMESTAMP(3),
ADD COLUMN     "popupPageId" TEXT;
