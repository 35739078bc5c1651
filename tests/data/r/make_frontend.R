# Reference values for tests/frontend/ (issue 20): lme4's na.omit, anova
# (likelihood-ratio tests with the ML refit), predict, and R's poly().
# Run from the repository root:  Rscript tests/data/r/make_frontend.R
# Writes tests/data/sleepstudy_na.csv and tests/data/frontend.json.
suppressPackageStartupMessages({ library(lme4); library(jsonlite) })
ss <- read.csv("tests/data/sleepstudy.csv")
ss$Subject <- factor(ss$Subject)

# sleepstudy with missing values: 3 in Reaction, 2 in Days, 2 in Subject,
# one as an empty field; lme4 drops those rows (na.action = na.omit).
na <- ss
na$Subject <- as.character(na$Subject)
na$Reaction[c(5, 40, 121)] <- NA
na$Days[c(17, 88)] <- NA
na$Subject[c(60, 150)] <- NA
write.csv(na, "tests/data/sleepstudy_na.csv", row.names = FALSE, na = "NA", quote = FALSE)
# the file is then edited: line 151 (row 150) holds an empty Subject field
lines <- readLines("tests/data/sleepstudy_na.csv")
lines[151] <- sub(",NA$", ",", lines[151])
writeLines(lines, "tests/data/sleepstudy_na.csv")
na$Subject <- factor(na$Subject)

ctl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5))
fit_na <- lmer(Reaction ~ Days + (Days | Subject), data = na, REML = TRUE, control = ctl)
vc <- as.data.frame(VarCorr(fit_na))

m0 <- lmer(Reaction ~ 1 + (Days | Subject), data = ss, REML = FALSE, control = ctl)
m1 <- lmer(Reaction ~ Days + (Days | Subject), data = ss, REML = FALSE, control = ctl)
a <- anova(m0, m1)
# REML fits with the same fixed effects: refit = FALSE keeps REML
r0 <- lmer(Reaction ~ Days + (1 | Subject), data = ss, REML = TRUE, control = ctl)
r1 <- lmer(Reaction ~ Days + (Days | Subject), data = ss, REML = TRUE, control = ctl)
ar <- anova(r0, r1, refit = FALSE)

# predict with random effects for a few rows (one new subject)
full <- lmer(Reaction ~ Days + (Days | Subject), data = ss, REML = TRUE, control = ctl)
newd <- data.frame(Days = c(0, 3, 9, 5), Subject = factor(c("308", "309", "372", "999")))
pr <- predict(full, newdata = newd, allow.new.levels = TRUE)
re <- ranef(full)$Subject

# functions in formulas: log, I(), poly, scale (ML not needed: REML fits)
ss$Days1 <- ss$Days + 1
fl <- lmer(log(Reaction) ~ I(Days^2) + sqrt(Days1) + (1 | Subject), data = ss, REML = TRUE, control = ctl)
fp <- lmer(Reaction ~ poly(Days, 2) + (1 | Subject), data = ss, REML = TRUE, control = ctl)
fs <- lmer(Reaction ~ scale(Days) + (1 | Subject), data = ss, REML = TRUE, control = ctl)
P <- poly(ss$Days, 3)

out <- list(
  source = paste("lme4", packageVersion("lme4"), "on", R.version.string),
  sleepstudy_na = list(
    formula = "Reaction ~ Days + (Days | Subject)", n = nobs(fit_na),
    n_dropped = nrow(na) - nobs(fit_na), groups = nlevels(droplevels(na$Subject[!is.na(na$Subject)])),
    n_groups_used = as.integer(ngrps(fit_na)),
    loglik = as.numeric(logLik(fit_na)), beta = unname(fixef(fit_na)),
    beta_names = names(fixef(fit_na)),
    vcov = vc$vcov),
  anova_ml = list(m0 = "Reaction ~ 1 + (Days | Subject)", m1 = "Reaction ~ Days + (Days | Subject)",
    chisq = a$Chisq[2], df = a$Df[2], p = a$`Pr(>Chisq)`[2],
    loglik = as.numeric(c(logLik(m0), logLik(m1)))),
  anova_reml = list(m0 = "Reaction ~ Days + (1 | Subject)", m1 = "Reaction ~ Days + (Days | Subject)",
    chisq = ar$Chisq[2], df = ar$Df[2], p = ar$`Pr(>Chisq)`[2],
    loglik = as.numeric(c(logLik(r0), logLik(r1)))),
  predict = list(formula = "Reaction ~ Days + (Days | Subject)",
    days = newd$Days, subject = as.character(newd$Subject), value = unname(pr),
    blup_308 = unname(unlist(re["308", ])), blup_names = colnames(re)),
  functions = list(
    log_formula = "log(Reaction) ~ I(Days^2) + sqrt(Days1) + (1 | Subject)",
    log_beta_names = names(fixef(fl)), log_beta = unname(fixef(fl)), log_loglik = as.numeric(logLik(fl)),
    poly_formula = "Reaction ~ poly(Days, 2) + (1 | Subject)",
    poly_beta_names = names(fixef(fp)), poly_beta = unname(fixef(fp)), poly_loglik = as.numeric(logLik(fp)),
    scale_formula = "Reaction ~ scale(Days) + (1 | Subject)",
    scale_beta_names = names(fixef(fs)), scale_beta = unname(fixef(fs)), scale_loglik = as.numeric(logLik(fs)),
    poly3_days = ss$Days[1:10], poly3_columns = unname(lapply(1:3, function(j) unname(P[1:10, j]))))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/data/frontend.json")
cat("chisq", a$Chisq[2], "\n")
