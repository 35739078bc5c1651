# Reference values for tests/frontend/predict.rs (issue 21): lme4's predict
# (with the BLUPs, allow.new.levels = TRUE, and re.form = NA), the BLUPs
# with their standard errors, fitted values and residuals.
# Run from the repository root:  Rscript tests/data/r/make_predict.R
# Reads tests/data/{sleepstudy,Penicillin}.csv and the new-data files
# tests/data/predict_{sleepstudy,penicillin}_new.csv; writes tests/data/predict.json.
#
# Standard errors of BLUPs: covreml reports sqrt(PEV), PEV = Var(u - u_hat)
# from the inverse of Henderson's mixed-model equations (it includes the
# uncertainty of beta_hat, as ASReml's). lme4's ranef(condVar = TRUE) is the
# conditional variance of u given y at beta = beta_hat, which does not: it
# is smaller. Both are written; the tests compare with "pev_se", computed
# here densely from lme4's estimates: C = [X'X X'Z; Z'X Z'Z + s2 G^-1]^-1 * s2.
suppressPackageStartupMessages({ library(lme4); library(jsonlite) })
ctl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5, rhoend = 1e-12))

one <- function(fit, newdata) {
  X <- getME(fit, "X"); Z <- as.matrix(getME(fit, "Z"))
  s2 <- sigma(fit)^2
  G <- as.matrix(crossprod(getME(fit, "Lambdat"))) * s2  # Var(b), lme4's column order
  C <- rbind(cbind(crossprod(X), crossprod(X, Z)),
             cbind(crossprod(Z, X), crossprod(Z) + s2 * solve(G)))
  pev <- diag(solve(C))[-(1:ncol(X))] * s2
  # lme4's Z columns: per term, level-major (level 1: all coefficients, ...)
  rows <- list(); k <- 0
  re <- ranef(fit, condVar = TRUE)
  for (term in names(re)) {
    r <- re[[term]]; pv <- attr(r, "postVar")
    for (l in seq_len(nrow(r))) for (a in seq_len(ncol(r))) {
      k <- k + 1
      rows[[length(rows) + 1]] <- list(term = term, coefficient = colnames(r)[a],
        level = rownames(r)[l], blup = r[l, a], lme4_condvar_se = sqrt(pv[a, a, l]),
        pev_se = sqrt(pev[k]))
    }
  }
  stopifnot(k == ncol(Z))
  list(
    blups = rows,
    fitted = unname(fitted(fit)),
    residuals = unname(residuals(fit)),
    predict = unname(predict(fit, newdata = newdata, allow.new.levels = TRUE)),
    predict_population = unname(predict(fit, newdata = newdata, re.form = NA))
  )
}

ss <- read.csv("tests/data/sleepstudy.csv")
ss$Subject <- factor(ss$Subject)
ss_new <- read.csv("tests/data/predict_sleepstudy_new.csv")
ss_new$Subject <- factor(ss_new$Subject)
f_ss <- lmer(Reaction ~ Days + (Days | Subject), data = ss, REML = TRUE, control = ctl)

pen <- read.csv("tests/data/Penicillin.csv")
pen$plate <- factor(pen$plate); pen$sample <- factor(pen$sample)
pen_new <- read.csv("tests/data/predict_penicillin_new.csv")
f_pen <- lmer(diameter ~ 1 + (1 | plate) + (1 | sample), data = pen, REML = TRUE, control = ctl)

out <- list(
  source = "lme4 via tests/data/r/make_predict.R",
  lme4_version = as.character(packageVersion("lme4")),
  sleepstudy = c(list(formula = "Reaction ~ Days + (Days | Subject)"), one(f_ss, ss_new)),
  penicillin = c(list(formula = "diameter ~ 1 + (1 | plate) + (1 | sample)"), one(f_pen, pen_new))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/data/predict.json")
